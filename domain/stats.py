"""The numbers the dashboards show: the three rates and stage-time histograms."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from domain.deadlines import Stage
from domain.transitions import Action

# Upper bounds (seconds) of the stage-time histogram: 1 minute to 60 days, each 1.5× the last.
BUCKET_BOUNDS: tuple[int, ...] = tuple(int(60 * 1.5**i) for i in range(26))


def bucket_of(seconds: float) -> int:
    """The histogram bucket of a duration; the last bucket holds everything longer."""
    return min(bisect.bisect_left(BUCKET_BOUNDS, max(seconds, 0)), len(BUCKET_BOUNDS))


def percentile(buckets: dict[int, int], fraction: float, sums: dict[int, int] | None = None) -> float | None:
    """The `fraction` quantile of a histogram, interpolated inside its bucket.

    With each bucket's total seconds, the values are taken as spread evenly around the
    bucket's mean rather than over the whole bucket (all zeros give 0, not 54 s).
    """
    total = sum(buckets.values())
    if total == 0:
        return None
    rank = fraction * total
    seen = 0
    for bucket in sorted(buckets):
        n = buckets[bucket]
        if n and seen + n >= rank:
            low = BUCKET_BOUNDS[bucket - 1] if bucket > 0 else 0
            high = BUCKET_BOUNDS[bucket] if bucket < len(BUCKET_BOUNDS) else low * 1.5
            if sums is not None and bucket in sums:
                mean = sums[bucket] / n
                low, high = (low, min(high, 2 * mean - low)) if mean <= (low + high) / 2 else (max(low, 2 * mean - high), high)
            return low + (high - low) * ((rank - seen) / n)
        seen += n
    return float(BUCKET_BOUNDS[-1])


# A stage's time is measured only when the stage is done by its own move: a claim ends
# the claim stage, a cancel does not; any rating (or the default one) ends the rating stage.
STAGE_DONE_BY: dict[Stage, frozenset[Action]] = {
    Stage.CLAIM: frozenset({Action.CLAIM}),
    Stage.DISPATCH: frozenset({Action.DISPATCH, Action.TAKE_TASK}),
    Stage.ACCEPT: frozenset({Action.ACCEPT}),
    Stage.COMPLETE: frozenset({Action.COMPLETE}),
    Stage.RATE: frozenset({Action.RATE, Action.REOPEN, Action.AUTO_CLOSE}),
}


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


def share(part: int, whole: int) -> float | None:
    """A rate as the answers give it: part ÷ whole to 4 places, None with nothing to count."""
    value = ratio(part, whole)
    return round(value, 4) if value is not None else None


@dataclass(frozen=True)
class RateCounts:
    submitted: int  # orders placed (every state)
    claimed_in_time: int
    closed: int
    cancelled: int
    ratings: int  # by residents or callback
    ratings_good: int  # 4-5 stars
    ratings_default: int  # closed at the deadline without a rating; counted apart
    duplicates: int = 0  # rejected as another order's duplicate: the other one counts

    @property
    def response(self) -> float | None:
        """响应率: claimed within the claim limit / placed, duplicates left out."""
        return ratio(self.claimed_in_time, self.submitted - self.duplicates)

    @property
    def resolution(self) -> float | None:
        """解决率 (办结率): closed / placed, cancelled ones and duplicates left out."""
        return ratio(self.closed, self.submitted - self.cancelled - self.duplicates)

    @property
    def satisfaction(self) -> float | None:
        """满意率: 4-5 star ratings / all ratings; default ratings are not in it."""
        return ratio(self.ratings_good, self.ratings)
