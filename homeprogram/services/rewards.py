"""The family's star jar on the child's "My turn" screen.

A caregiver sets up a jar: a prize the family chose ("park trip", at most 80 characters)
and how many stars fill it (1 to 50). Every session logged for the child after the jar was
started is a star, whoever logged it, online or from the offline queue; an undone session
is no star. Stars only ever add up to a full jar: nothing is taken away, nothing is
compared between children. One jar is open per child; setting a new one puts the old one
away (``ended_at``), and its stars stay where they were.
"""

from dataclasses import dataclass

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from homeprogram.models import Child, CompletionLog, Reward
from homeprogram.models.base import utcnow
from homeprogram.services import audit
from homeprogram.services.audit import Actor
from homeprogram.services.errors import ValidationFailed

MAX_PRIZE = 80
MIN_STARS = 1
MAX_STARS = 50


@dataclass(frozen=True)
class Jar:
    """An open jar and the stars in it (never more than it holds)."""

    reward: Reward
    stars: int

    @property
    def needed(self) -> int:
        return self.reward.stars_needed

    @property
    def full(self) -> bool:
        return self.stars >= self.reward.stars_needed


def validate(prize: str, stars_needed: int | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not prize.strip():
        errors["prize"] = gettext("Say what the stars are for, for example “park trip”.")
    elif len(prize.strip()) > MAX_PRIZE:
        errors["prize"] = gettext("Use at most %(num)d characters.", num=MAX_PRIZE)
    if stars_needed is None or not MIN_STARS <= stars_needed <= MAX_STARS:
        errors["stars_needed"] = gettext(
            "Choose from %(low)d to %(high)d stars.", low=MIN_STARS, high=MAX_STARS
        )
    return errors


def open_reward(session: Session, child_id: int) -> Reward | None:
    return session.scalar(
        select(Reward)
        .where(Reward.child_id == child_id, Reward.ended_at.is_(None))
        .order_by(Reward.started_at.desc(), Reward.id.desc())
        .limit(1)
    )


def _end_open(session: Session, child_id: int) -> list[Reward]:
    now = utcnow()
    ended = list(
        session.scalars(
            select(Reward).where(Reward.child_id == child_id, Reward.ended_at.is_(None))
        )
    )
    for reward in ended:
        reward.ended_at = now
    return ended


def set_reward(
    session: Session, actor: Actor, child: Child, prize: str, stars_needed: int | None
) -> Reward:
    """Start a new jar for ``child`` (the open one, if any, is put away); ValidationFailed
    with a message per field for a prize that is empty or too long, or stars out of 1–50."""
    errors = validate(prize, stars_needed)
    if errors:
        raise ValidationFailed(errors)
    assert stars_needed is not None  # validated above
    _end_open(session, child.id)
    reward = Reward(
        child_id=child.id,
        prize=prize.strip(),
        stars_needed=stars_needed,
        started_at=utcnow(),
        created_by_id=actor.user_id,
    )
    session.add(reward)
    session.flush()
    audit.record(
        session,
        actor,
        "reward.set",
        organization_id=child.organization_id,
        child_id=child.id,
        target_type="reward",
        target_id=reward.id,
        stars_needed=stars_needed,
    )
    return reward


def end_reward(session: Session, actor: Actor, child: Child) -> bool:
    """Put the open jar away; False when there was none."""
    ended = _end_open(session, child.id)
    for reward in ended:
        audit.record(
            session,
            actor,
            "reward.ended",
            organization_id=child.organization_id,
            child_id=child.id,
            target_type="reward",
            target_id=reward.id,
        )
    return bool(ended)


def stars(session: Session, reward: Reward) -> int:
    """The child's sessions logged (and not undone) since the jar was started, up to the
    jar's size; a jar put away counts those logged before it was."""
    query = select(func.count(CompletionLog.id)).where(
        CompletionLog.child_id == reward.child_id,
        CompletionLog.deleted_at.is_(None),
        CompletionLog.created_at >= reward.started_at,
    )
    if reward.ended_at is not None:
        query = query.where(CompletionLog.created_at < reward.ended_at)
    return min(session.scalar(query) or 0, reward.stars_needed)


def jar(session: Session, child_id: int) -> Jar | None:
    """The child's open jar with its stars, or None."""
    reward = open_reward(session, child_id)
    return Jar(reward, stars(session, reward)) if reward is not None else None
