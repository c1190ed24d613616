"""The sandbox's clock: real time shifted by an offset, or a frozen instant.

Token expiry is judged on this clock, so tests and notebooks can travel in
time (``advance(hours=25)``) and watch sessions expire without waiting a day.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from primer_nb.api.timestamps import as_utc

__all__ = ["DETERMINISTIC_START", "SandboxClock"]

DETERMINISTIC_START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
"""Where a deterministic sandbox's clock starts (a Monday morning, UTC)."""


class SandboxClock:
    """A thread-safe clock that can be set and advanced.

    Parameters
    ----------
    start:
        The instant the clock reads now. ``None`` follows the system clock.
    frozen:
        When true the clock stands still between explicit ``set``/``advance``
        calls, so every read is reproducible (deterministic mode).
    """

    def __init__(self, start: datetime | None = None, *, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], object]] = []
        self._frozen = frozen
        self._offset = timedelta(0)
        self._fixed = as_utc(start) if start is not None else datetime.now(UTC)
        if not frozen and start is not None:
            self._offset = self._fixed - datetime.now(UTC)

    @property
    def frozen(self) -> bool:
        """Whether the clock only moves when told to."""
        return self._frozen

    def now(self) -> datetime:
        """The sandbox's current time, aware UTC."""
        with self._lock:
            return self._fixed if self._frozen else datetime.now(UTC) + self._offset

    def on_change(self, listener: Callable[[], object]) -> None:
        """Call ``listener()`` after every ``set`` and ``advance`` (what was due later may be due now)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    def set(self, when: datetime) -> datetime:
        """Make the clock read ``when`` (naive datetimes are taken as UTC); return it."""
        when = as_utc(when)
        with self._lock:
            if self._frozen:
                self._fixed = when
            else:
                self._offset = when - datetime.now(UTC)
        self._changed()
        return when

    def advance(self, delta: timedelta | float | int) -> datetime:
        """Move the clock forward (or back, if negative) by seconds or a timedelta; return now."""
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=float(delta))
        with self._lock:
            if self._frozen:
                self._fixed += delta
            else:
                self._offset += delta
        self._changed()
        return self.now()

    def __repr__(self) -> str:
        mode = "frozen" if self._frozen else "running"
        return f"SandboxClock({self.now().isoformat()}, {mode})"
