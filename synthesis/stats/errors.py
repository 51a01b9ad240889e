"""Exceptions raised by the statistics engine.

Every failure the engine can foresee is a :class:`StatsError`, itself a :class:`ValueError`, so a
caller (a view, a management command) can catch one class and show its message to the user.
"""

from __future__ import annotations


class StatsError(ValueError):
    """Base class: the engine cannot give an answer for these inputs."""


class StatsInputError(StatsError):
    """The inputs are degenerate or malformed (k too small, NaN, non-positive variances, ...)."""


class StatsConvergenceError(StatsError):
    """An iterative estimator did not converge within its iteration budget."""
