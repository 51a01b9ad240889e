"""Hooks: how a lower app lets higher apps add work to what it does, without importing them.

Dependencies run one way, in the order of the PRISMA flow (``docs/architecture.md``). When a
lower app does something a higher one must react to (records imported: deduplicate them, then
add them to screening), the lower app defines a :class:`Hook` and sends it; the higher app
connects a receiver in its ``AppConfig.ready``. Receivers run in ``order`` (then in the order
they connected), inside the sender's transaction, and what each returns is handed back to the
sender, so an import's summary can say what deduplication and screening did with its records.

Django's signals would do most of this; a hook differs in two ways we rely on: the order of
receivers is explicit instead of following ``INSTALLED_APPS``, and their answers are returned
by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Receiver = Callable[..., Any]


@dataclass
class Hook:
    """A named point in a lower app's work that higher apps may join."""

    name: str
    doc: str = ""
    _receivers: list[tuple[int, int, str, Receiver]] = field(default_factory=list, repr=False)

    def connect(self, receiver: Receiver, *, order: int = 50, key: str | None = None) -> None:
        """Run ``receiver(**kwargs)`` whenever the hook is sent; connecting twice is a no-op."""
        key = key or f"{receiver.__module__}.{receiver.__qualname__}"
        if any(k == key for _, _, k, _ in self._receivers):
            return
        self._receivers.append((order, len(self._receivers), key, receiver))
        self._receivers.sort(key=lambda r: (r[0], r[1]))

    def disconnect(self, key: str) -> None:
        self._receivers = [r for r in self._receivers if r[2] != key]

    @property
    def receivers(self) -> list[str]:
        return [key for _, _, key, _ in self._receivers]

    def send(self, **kwargs: Any) -> dict[str, Any]:
        """Call every receiver in order; their answers by receiver key."""
        return {key: receiver(**kwargs) for _, _, key, receiver in self._receivers}

    def collect(self, **kwargs: Any) -> set[Any]:
        """Call every receiver; the union of the sets they return."""
        out: set[Any] = set()
        for answer in self.send(**kwargs).values():
            out |= set(answer or ())
        return out
