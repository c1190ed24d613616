"""Opt-in fault injection: make the sandbox fail the way a busy API does.

A client's retries are only as good as the failures they were tested
against. ``FaultInjector.set(rate=0.3, statuses=[429, 503])`` makes three in
ten Client Session requests fail before they touch any session, with
Primer's error envelope (and ``Retry-After`` on 429), optionally after some
latency. The draw is seeded, so a run can be repeated exactly.
"""

from __future__ import annotations

import random
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

__all__ = ["FAULT_STATUSES", "Fault", "FaultControls", "FaultInjector", "FaultSettings"]

FAULT_STATUSES = frozenset({429, 500, 502, 503, 504})
"""The statuses the sandbox can inject."""


@dataclass(frozen=True)
class FaultSettings:
    """What to inject: failure ``rate`` (0–1), which ``statuses``, extra latency."""

    rate: float = 0.0
    statuses: tuple[int, ...] = (503,)
    latency_ms: int = 0
    seed: int | None = None
    retry_after: int = 1

    def __post_init__(self) -> None:
        # Accept any iterable of statuses and int-like numbers; store them normalised.
        object.__setattr__(self, "statuses", tuple(int(s) for s in self.statuses))
        object.__setattr__(self, "latency_ms", int(self.latency_ms))
        object.__setattr__(self, "retry_after", int(self.retry_after))
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, got {self.rate}")
        if not self.statuses:
            raise ValueError("statuses must name at least one status, e.g. [503]")
        unknown = sorted(set(self.statuses) - FAULT_STATUSES)
        if unknown:
            raise ValueError(f"cannot inject {unknown}; choose from {sorted(FAULT_STATUSES)}")
        if self.latency_ms < 0 or self.retry_after < 0:
            raise ValueError("latency_ms and retry_after cannot be negative")

    def as_json(self) -> dict[str, object]:
        """The settings in the admin API's camelCase JSON."""
        return {
            "rate": self.rate,
            "statuses": list(self.statuses),
            "latencyMs": self.latency_ms,
            "seed": self.seed,
            "retryAfter": self.retry_after,
        }


@dataclass(frozen=True)
class Fault:
    """The outcome of one draw: a status to fail with (or ``None``) and a delay."""

    status: int | None
    latency_ms: int
    retry_after: int = 1


class FaultControls(ABC):
    """``set()`` and ``clear()``: what a sandbox's faults offer, here or through its admin API."""

    def set(
        self,
        rate: float = 0.0,
        statuses: list[int] | tuple[int, ...] = (503,),
        latency_ms: int = 0,
        seed: int | None = None,
        retry_after: int = 1,
    ) -> FaultSettings:
        """Replace the fault settings; raise ``ValueError`` for impossible ones."""
        settings = FaultSettings(rate, tuple(statuses), latency_ms, seed, retry_after)
        self._apply(settings)
        return settings

    def clear(self) -> None:
        """Stop injecting faults."""
        self._apply(FaultSettings())

    @abstractmethod
    def _apply(self, settings: FaultSettings) -> None:
        """Make ``settings`` the sandbox's current settings."""


@dataclass
class FaultInjector(FaultControls):
    """Holds the current fault settings and draws a :class:`Fault` per request."""

    settings: FaultSettings = field(default_factory=FaultSettings)
    _random: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _apply(self, settings: FaultSettings) -> None:
        with self._lock:
            self.settings = settings
            self._random = random.Random(settings.seed)

    def draw(self) -> Fault:
        """Decide the fate of one request."""
        with self._lock:
            settings = self.settings
            if settings.rate <= 0.0:
                return Fault(None, settings.latency_ms)
            failed = self._random.random() < settings.rate
            status = self._random.choice(settings.statuses) if failed else None
        return Fault(status, settings.latency_ms, settings.retry_after)
