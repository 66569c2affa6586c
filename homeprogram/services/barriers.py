"""Asking caregivers, once and gently, what got in the way when adherence drops."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext, lazy_gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from homeprogram.models import Barrier, BarrierReason, Child
from homeprogram.services import adherence, audit
from homeprogram.services.audit import Actor
from homeprogram.services.errors import ValidationFailed

# After an answer (or a "not now"), the same caregiver is not asked again for this long.
ASK_AGAIN_AFTER_DAYS = 14
# The dashboard shows answers this recent beside the flag.
SHOW_ON_DASHBOARD_DAYS = 28

REASONS = {
    BarrierReason.NO_TIME.value: lazy_gettext("No time"),
    BarrierReason.RESISTED.value: lazy_gettext("My child resisted"),
    BarrierReason.UNSURE.value: lazy_gettext("Unsure how to do it"),
    BarrierReason.UNWELL.value: lazy_gettext("My child was unwell"),
    BarrierReason.OTHER.value: lazy_gettext("Something else"),
}


@dataclass(frozen=True)
class BarrierPrompt:
    child_id: int
    child_name: str
    flags: tuple[str, ...]
    reasons: dict[str, str]


def barrier_prompt_for(
    session: Session, user_id: int, child_id: int, today: date
) -> BarrierPrompt | None:
    """What the caregiver's prompt needs, or None when there is nothing to ask.

    ``today`` is the child's local date. Asked only while an adherence flag is up and the
    caregiver has not answered or skipped within ``ASK_AGAIN_AFTER_DAYS``.
    """
    recent = session.scalar(
        select(Barrier.id).where(
            Barrier.child_id == child_id,
            Barrier.user_id == user_id,
            Barrier.local_date > today - timedelta(days=ASK_AGAIN_AFTER_DAYS),
        )
    )
    if recent is not None:
        return None
    child = session.get(Child, child_id)
    if child is None:
        return None
    flags = tuple(adherence.adherence_flags_on(session, child_id, today))
    if not flags:
        return None
    return BarrierPrompt(child_id, child.display_name, flags, REASONS)


def barrier_prompt_given(
    session: Session, user_id: int, child: Child, today: date, flags: Sequence[str]
) -> BarrierPrompt | None:
    """``barrier_prompt_for`` with the child's adherence ``flags`` already known (Today
    computes them with its week): no query unless a flag is up."""
    if not flags:
        return None
    recent = session.scalar(
        select(Barrier.id).where(
            Barrier.child_id == child.id,
            Barrier.user_id == user_id,
            Barrier.local_date > today - timedelta(days=ASK_AGAIN_AFTER_DAYS),
        )
    )
    if recent is not None:
        return None
    return BarrierPrompt(child.id, child.display_name, tuple(flags), REASONS)


def record_barrier(
    session: Session,
    actor: Actor,
    *,
    child_id: int,
    reason: str | None,
    note: str,
    today: date,
) -> Barrier:
    """Store an answer; ``reason`` None means "not now" (nothing asked again for a while)."""
    note = note.strip()
    errors: dict[str, str] = {}
    if reason is not None and reason not in REASONS:
        errors["reason"] = gettext("Choose one of the options.")
    if len(note) > 500:
        errors["note"] = gettext("Use at most %(num)d characters.", num=500)
    if reason == BarrierReason.OTHER and not note:
        errors["note"] = gettext("Tell us briefly what got in the way.")
    if errors:
        raise ValidationFailed(errors)
    flags = adherence.adherence_flags_on(session, child_id, today)
    barrier = Barrier(
        child_id=child_id,
        user_id=actor.user_id,
        reason=reason,
        note=note if reason is not None else "",
        flags=",".join(flags),
        local_date=today,
    )
    session.add(barrier)
    session.flush()
    audit.record(
        session,
        actor,
        "barrier.answered" if reason else "barrier.skipped",
        child_id=child_id,
        target_type="barrier",
        target_id=barrier.id,
    )
    return barrier


def latest_barriers(session: Session, child_ids: Iterable[int], today: date) -> dict[int, Barrier]:
    """The most recent answer (not a skip) per child (one query)."""
    ids = list(child_ids)
    if not ids:
        return {}
    since = today - timedelta(days=SHOW_ON_DASHBOARD_DAYS)
    newest = (
        select(Barrier.child_id, func.max(Barrier.id).label("id"))
        .where(Barrier.child_id.in_(ids), Barrier.reason.is_not(None), Barrier.local_date >= since)
        .group_by(Barrier.child_id)
        .subquery()
    )
    rows = session.scalars(select(Barrier).join(newest, newest.c.id == Barrier.id))
    return {b.child_id: b for b in rows}
