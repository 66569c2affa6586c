"""Each organisation's list of standardised assessment instruments: names only, never an
instrument's content. New organisations start with ``SEEDED``; admins add, rename, archive
and restore. An archived instrument keeps its results but is not offered for new ones."""

from typing import Any

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from homeprogram.models import Instrument
from homeprogram.models.base import utcnow
from homeprogram.services import audit
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound, ValidationFailed

MAX_NAME = 120

# Common pediatric OT instruments, by name. The migration 0015 seeded existing organisations
# with this list as it was then; names added here later reach new organisations only.
SEEDED = (
    "Beery-Buktenica Developmental Test of Visual-Motor Integration (Beery VMI)",
    "Bruininks-Oseretsky Test of Motor Proficiency (BOT-2)",
    "Peabody Developmental Motor Scales (PDMS)",
    "Sensory Profile 2",
    "Sensory Processing Measure (SPM-2)",
    "Movement Assessment Battery for Children (MABC)",
    "Developmental Test of Visual Perception (DTVP)",
    "Test of Visual Perceptual Skills (TVPS)",
    "Pediatric Evaluation of Disability Inventory (PEDI-CAT)",
    "School Function Assessment (SFA)",
    "Evaluation Tool of Children's Handwriting (ETCH)",
    "Miller Function and Participation Scales (M-FUN)",
    "Assessment of Motor and Process Skills (AMPS)",
    "Vineland Adaptive Behavior Scales",
)


def _by_name() -> tuple[Any, ...]:
    return (func.lower(Instrument.name), Instrument.id)


def seed(session: Session, organization_id: int) -> int:
    """Add the seeded names the organisation does not have yet (whatever their case, archived
    or not); the number added. Running it again adds nothing."""
    have = {
        name.casefold()
        for name in session.scalars(
            select(Instrument.name).where(Instrument.organization_id == organization_id)
        )
    }
    new = [
        Instrument(organization_id=organization_id, name=n)
        for n in SEEDED
        if n.casefold() not in have
    ]
    session.add_all(new)
    session.flush()
    return len(new)


def active(session: Session, organization_id: int) -> list[Instrument]:
    """The instruments offered for new results, by name."""
    return list(
        session.scalars(
            select(Instrument)
            .where(Instrument.organization_id == organization_id, Instrument.archived_at.is_(None))
            .order_by(*_by_name())
        )
    )


def all_of(session: Session, organization_id: int) -> list[Instrument]:
    """Every instrument of the organisation, archived ones included, by name."""
    return list(
        session.scalars(
            select(Instrument)
            .where(Instrument.organization_id == organization_id)
            .order_by(*_by_name())
        )
    )


def instrument_of(session: Session, organization_id: int, instrument_id: int) -> Instrument:
    """The organisation's instrument; NotFound for another organisation's (or none)."""
    instrument = session.get(Instrument, instrument_id)
    if instrument is None or instrument.organization_id != organization_id:
        raise NotFound()
    return instrument


def _checked_name(
    session: Session, organization_id: int, name: str, *, keep: Instrument | None = None
) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed({"name": gettext("Enter the instrument's name.")})
    if len(name) > MAX_NAME:
        raise ValidationFailed({"name": gettext("Use at most %(num)d characters.", num=MAX_NAME)})
    # Lists are short: compared in Python, where case folding is Unicode-aware (SQLite's
    # lower() folds ASCII only).
    same = next(
        (
            i
            for i in all_of(session, organization_id)
            if i.name.casefold() == name.casefold() and (keep is None or i.id != keep.id)
        ),
        None,
    )
    if same is not None:
        if same.archived_at is not None:
            message = gettext(
                "An archived instrument is called “%(name)s”: restore it instead.",
                name=same.name,
            )
        else:
            message = gettext("Your list already has “%(name)s”.", name=same.name)
        raise ValidationFailed({"name": message})
    return name


def _audit(session: Session, actor: Actor, action: str, instrument: Instrument) -> None:
    audit.record(
        session,
        actor,
        action,
        organization_id=instrument.organization_id,
        target_type="instrument",
        target_id=instrument.id,
        name=instrument.name,
    )


def add(session: Session, actor: Actor, organization_id: int, name: str) -> Instrument:
    instrument = Instrument(
        organization_id=organization_id, name=_checked_name(session, organization_id, name)
    )
    session.add(instrument)
    session.flush()
    _audit(session, actor, "instrument.added", instrument)
    return instrument


def rename(session: Session, actor: Actor, instrument: Instrument, name: str) -> Instrument:
    new = _checked_name(session, instrument.organization_id, name, keep=instrument)
    if new != instrument.name:
        instrument.name = new
        session.flush()
        _audit(session, actor, "instrument.renamed", instrument)
    return instrument


def archive(session: Session, actor: Actor, instrument: Instrument) -> Instrument:
    if instrument.archived_at is None:
        instrument.archived_at = utcnow()
        session.flush()
        _audit(session, actor, "instrument.archived", instrument)
    return instrument


def restore(session: Session, actor: Actor, instrument: Instrument) -> Instrument:
    if instrument.archived_at is not None:
        instrument.archived_at = None
        session.flush()
        _audit(session, actor, "instrument.restored", instrument)
    return instrument
