"""Honest numbers: proportions with their uncertainty."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Proportion:
    """k successes out of n, with a 95% Wilson score interval."""

    k: int
    n: int

    @property
    def value(self) -> float | None:
        return None if self.n == 0 else self.k / self.n

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.k, self.n)

    def percent(self) -> str:
        """'71%' or '—' when there is nothing to count."""
        return "—" if self.value is None else f"{100 * self.value:.0f}%"

    def interval_text(self) -> str:
        """'95% CI 36–92%' or ''."""
        if self.interval is None:
            return ""
        low, high = self.interval
        return f"95% CI {100 * low:.0f}–{100 * high:.0f}%"


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval for k of n; None when n is 0."""
    if n <= 0:
        return None
    if not 0 <= k <= n:
        raise ValueError(f"k={k} must be between 0 and n={n}")
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - margin), min(1.0, centre + margin)
