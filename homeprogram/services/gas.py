"""Goal Attainment Scaling as published: five written levels per goal, the level at baseline,
dated follow-up ratings, and the child's T-score across goals.

The T-score is Kiresuk and Sherman's (1968):

    T = 50 + 10 Σ(wᵢxᵢ) / √((1 − ρ) Σwᵢ² + ρ (Σwᵢ)²)

with xᵢ the level (−2..+2) of goal i, wᵢ its weight (1 when none is given) and ρ the assumed
correlation between goals' levels (0.3 by default, as in the original paper and in
Turner-Stokes's practical guide for rehabilitation, 2009). T is 50 when every goal reaches
its expected level, and has a standard deviation of 10.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext, lazy_gettext
from sqlalchemy.orm import Session

from homeprogram.models import GasRating, Goal
from homeprogram.services import audit
from homeprogram.services.audit import Actor
from homeprogram.services.errors import ValidationFailed

RHO = 0.3
LEVELS = (-2, -1, 0, 1, 2)
BASELINE_LEVELS = (-2, -1)
MAX_WEIGHT = 100.0
MAX_LEVEL_TEXT = 500
WORDS = {
    -2: lazy_gettext("much less than expected"),
    -1: lazy_gettext("somewhat less than expected"),
    0: lazy_gettext("expected level reached"),
    1: lazy_gettext("somewhat more than expected"),
    2: lazy_gettext("much more than expected"),
}


def t_score(levels: Sequence[tuple[int, float]], rho: float = RHO) -> float | None:
    """The T-score of (level, weight) pairs; None without any goal."""
    if not levels:
        return None
    weighted = sum(w * x for x, w in levels)
    squares = sum(w * w for _, w in levels)
    total = sum(w for _, w in levels)
    return 50 + 10 * weighted / math.sqrt((1 - rho) * squares + rho * total * total)


@dataclass(frozen=True)
class TScore:
    """The child's T-score on one day: at baseline (``day`` None) or at a follow-up."""

    day: date | None
    score: float
    goals: int  # goals counted
    rated: int  # of which rated on or before that day (the others count at baseline)


def weight_of(goal: Goal) -> float:
    return goal.gas_weight if goal.gas_weight is not None else 1.0


def rating_on(goal: Goal, day: date) -> GasRating | None:
    """The goal's latest rating on or before ``day``."""
    return max(
        (r for r in goal.gas_ratings if r.rated_on <= day),
        key=lambda r: r.rated_on,
        default=None,
    )


def t_scores(goals: Iterable[Goal], until: date | None = None) -> list[TScore]:
    """The baseline T-score and one per follow-up day (a day any scaled goal was rated),
    oldest first. A goal not yet rated on a follow-up day counts at its baseline level."""
    scaled = [g for g in goals if g.gas_scaled]
    if not scaled:
        return []
    out = [
        TScore(None, t_score([(g.gas_baseline or 0, weight_of(g)) for g in scaled]), len(scaled), 0)
    ]
    days = sorted(
        {r.rated_on for g in scaled for r in g.gas_ratings if until is None or r.rated_on <= until}
    )
    for day in days:
        pairs, rated = [], 0
        for g in scaled:
            rating = rating_on(g, day)
            rated += rating is not None
            pairs.append((g.gas_baseline if rating is None else rating.level, weight_of(g)))
        score = t_score(pairs)
        assert score is not None
        out.append(TScore(day, score, len(scaled), rated))
    return out


def validate_scale(
    levels: Sequence[str], baseline: int | None, weight: float | None
) -> dict[str, str]:
    """Errors of a goal's scale: none written at all, or all five levels and the baseline."""
    errors: dict[str, str] = {}
    written = [text.strip() for text in levels]
    if weight is not None and (not math.isfinite(weight) or not 0 < weight <= MAX_WEIGHT):
        errors["gas_weight"] = gettext(
            "Enter a weight above 0 and at most %(num)d, or leave it empty.", num=int(MAX_WEIGHT)
        )
    for level, text in zip(LEVELS, written, strict=True):
        if len(text) > MAX_LEVEL_TEXT:
            errors[f"gas_{level + 2}"] = gettext("Use at most %(num)d characters.", num=500)
    if not any(written):  # no scale (a baseline alone is dropped with it)
        return errors
    for level, text in zip(LEVELS, written, strict=True):
        if not text:
            errors[f"gas_{level + 2}"] = gettext("Describe this level too: a scale needs all five.")
    if baseline is None:
        errors["gas_baseline"] = gettext("Mark the level the child is at today.")
    elif baseline not in BASELINE_LEVELS:
        errors["gas_baseline"] = gettext(
            "At baseline a child is at −1, or at −2 when nothing worse is possible."
        )
    return errors


def rate(
    session: Session,
    actor: Actor,
    goal: Goal,
    *,
    level: int | None,
    rated_on: date | None,
    note: str,
    today: date,
) -> GasRating:
    """Records the goal's level on a follow-up day (a second rating that day replaces it)."""
    errors: dict[str, str] = {}
    if not goal.gas_scaled:
        errors["gas_level"] = gettext(
            "Write the goal's five levels and mark its baseline before rating it."
        )
    elif level is None or level not in LEVELS:
        errors["gas_level"] = gettext("Choose a level from -2 to +2.")
    if rated_on is None:
        errors["rated_on"] = gettext("Enter the date.")
    elif rated_on > today:
        errors["rated_on"] = gettext("The date cannot be in the future.")
    if len(note) > 1000:
        errors["note"] = gettext("Use at most %(num)d characters.", num=1000)
    if errors:
        raise ValidationFailed(errors)
    assert level is not None and rated_on is not None
    rating = next((r for r in goal.gas_ratings if r.rated_on == rated_on), None)
    if rating is None:
        rating = GasRating(goal_id=goal.id, rated_on=rated_on)
        goal.gas_ratings.append(rating)
    rating.level, rating.note, rating.by_id = level, note.strip(), actor.user_id
    session.flush()
    audit.record(
        session,
        actor,
        "goal.gas_rated",
        child_id=goal.child_id,
        target_type="goal",
        target_id=goal.id,
        level=level,
        rated_on=rated_on.isoformat(),
    )
    return rating
