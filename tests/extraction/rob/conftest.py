"""Fixtures of the risk-of-bias app's tests (``tests.extraction.rob.rob_world``)."""

from tests.extraction.rob.rob_world import (  # noqa: F401
    rob_a,
    rob_b,
    rob_third,
    rob_viewer,
    trial,
)
