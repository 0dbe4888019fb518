"""What a rating does to an order (群众评单)."""

from enum import StrEnum

from domain.errors import RuleViolation
from domain.transitions import Action

# After this many reopens a low rating closes the order as unsatisfied.
MAX_REOPENS = 2
SATISFIED_MIN_STARS = 4
REOPEN_MAX_STARS = 2


class RatingSource(StrEnum):
    RESIDENT = "resident"  # rated by the resident in the mini-program
    CALLBACK = "callback"  # stars taken by a grid worker's callback (回访)
    DEFAULT = "default"  # no rating by the deadline; closed by the system


def check_stars(stars: int) -> int:
    if not 1 <= stars <= 5:
        raise RuleViolation(key="rating.stars")
    return stars


def rating_action(stars: int, reopen_count: int, max_reopens: int = MAX_REOPENS) -> Action:
    """A rating of 1-2 stars sends the order round again, until it has been reopened enough."""
    check_stars(stars)
    if stars <= REOPEN_MAX_STARS and reopen_count < max_reopens:
        return Action.REOPEN
    return Action.RATE


def is_satisfied(stars: int) -> bool:
    return stars >= SATISFIED_MIN_STARS


def closes_unsatisfied(stars: int, reopen_count: int, max_reopens: int = MAX_REOPENS) -> bool:
    return stars <= REOPEN_MAX_STARS and reopen_count >= max_reopens
