"""When to try a delivery again: exponential backoff with jitter, a bounded number of attempts."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempt n (1-based) that failed is followed, after `delay(n)`, by attempt n+1, up to `max_attempts`.

    The nominal delay doubles from `base_seconds` up to `cap_seconds`; jitter takes a random share of up to
    `jitter` off it, so receivers coming back are not hit by every sender at the same instant.
    """

    max_attempts: int = 8
    base_seconds: float = 1.0
    factor: float = 2.0
    cap_seconds: float = 300.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter is a share between 0 and 1")

    def nominal_delay(self, attempt: int) -> float:
        return min(self.cap_seconds, self.base_seconds * self.factor ** (attempt - 1))

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        return self.nominal_delay(attempt) * (1 - self.jitter * rand())

    def gives_up_after(self, attempt: int) -> bool:
        return attempt >= self.max_attempts

    def schedule(self) -> list[float]:
        """The nominal waits between the attempts (one fewer than the attempts)."""
        return [self.nominal_delay(n) for n in range(1, self.max_attempts)]


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    GONE = "gone"


def outcome_of(status: int | None) -> Outcome:
    """What an answer means: any 2xx is delivered, 410 Gone disables the subscription, the rest is retried.

    `None` stands for no answer at all (connection refused, timeout, broken connection).
    """
    if status is not None and 200 <= status < 300:
        return Outcome.DELIVERED
    if status == 410:
        return Outcome.GONE
    return Outcome.RETRY
