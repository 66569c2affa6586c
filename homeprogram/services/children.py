"""Children and their care teams."""

import re
from datetime import date

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from homeprogram.models import CareRole, CareTeamMember, Child, OrgMembership, OrgRole, User
from homeprogram.services import audit
from homeprogram.services.audit import Actor
from homeprogram.services.errors import ValidationFailed
from homeprogram.services.validation import timezone_problem

LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:_[A-Z]{2})?")

MAX_AGE_YEARS = 21


def _validate_child(
    display_name: str, birth_year: int | None, birth_month: int | None, timezone: str, today: date
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not display_name.strip():
        errors["display_name"] = gettext("Enter a first name or nickname.")
    elif len(display_name.strip()) > 60:
        errors["display_name"] = gettext("Use at most %(num)d characters.", num=60)
    if birth_month is None or not 1 <= birth_month <= 12:
        errors["birth_month"] = gettext("Choose the month of birth.")
    if birth_year is None or not today.year - MAX_AGE_YEARS <= birth_year <= today.year:
        errors["birth_year"] = gettext(
            "Enter a year between %(first)d and %(last)d.",
            first=today.year - MAX_AGE_YEARS,
            last=today.year,
        )
    elif birth_month and (birth_year, birth_month) > (today.year, today.month):
        errors["birth_month"] = gettext("The birth month cannot be in the future.")
    if problem := timezone_problem(timezone):
        errors["timezone"] = problem
    return errors


def create_child(
    session: Session,
    actor: Actor,
    *,
    organization_id: int,
    therapist_id: int,
    display_name: str,
    birth_year: int | None,
    birth_month: int | None,
    timezone: str,
    today: date,
    family_language: str | None = None,
) -> Child:
    errors = _validate_child(display_name, birth_year, birth_month, timezone, today)
    errors.update(_validate_language(family_language))
    if errors:
        raise ValidationFailed(errors)
    assert birth_year is not None and birth_month is not None
    child = Child(
        organization_id=organization_id,
        display_name=display_name.strip(),
        birth_year=birth_year,
        birth_month=birth_month,
        timezone=timezone,
        family_language=family_language,
    )
    session.add(child)
    session.flush()
    session.add(CareTeamMember(child_id=child.id, user_id=therapist_id, role=CareRole.THERAPIST))
    audit.record(
        session, actor, "child.created", child_id=child.id, target_type="child", target_id=child.id
    )
    return child


def update_child(
    session: Session,
    actor: Actor,
    child: Child,
    *,
    display_name: str,
    birth_year: int | None,
    birth_month: int | None,
    timezone: str,
    today: date,
    family_language: str | None = None,
) -> Child:
    errors = _validate_child(display_name, birth_year, birth_month, timezone, today)
    errors.update(_validate_language(family_language))
    if errors:
        raise ValidationFailed(errors)
    new = {
        "display_name": display_name.strip(),
        "birth_year": birth_year,
        "birth_month": birth_month,
        "timezone": timezone,
        "family_language": family_language,
    }
    changed = [field for field, value in new.items() if getattr(child, field) != value]
    for field in changed:
        setattr(child, field, new[field])
    if changed:
        audit.record(
            session,
            actor,
            "child.updated",
            child_id=child.id,
            target_type="child",
            target_id=child.id,
            fields=changed,
        )
    return child


def _validate_language(code: str | None) -> dict[str, str]:
    """The family's language: a language code (the page offers the configured ones)."""
    if code is None or LANGUAGE_CODE.fullmatch(code):
        return {}
    return {"family_language": gettext("Choose one of the languages.")}


def caseload(session: Session, user_id: int, organization_id: int, query: str = "") -> list[Child]:
    """The therapist's caseload; an admin sees every child of the organization."""
    is_admin = session.scalar(
        select(OrgMembership.id).where(
            OrgMembership.user_id == user_id,
            OrgMembership.organization_id == organization_id,
            OrgMembership.role == OrgRole.ADMIN,
            OrgMembership.active,
        )
    )
    stmt = select(Child).where(Child.organization_id == organization_id)
    if not is_admin:
        stmt = stmt.join(CareTeamMember).where(
            CareTeamMember.user_id == user_id, CareTeamMember.role == CareRole.THERAPIST
        )
    if query.strip():
        pattern = f"%{query.strip().lower()}%"
        stmt = stmt.where(func.lower(Child.display_name).like(pattern))
    return list(session.scalars(stmt.order_by(func.lower(Child.display_name), Child.id)))


def care_team(session: Session, child_id: int) -> list[tuple[CareTeamMember, User]]:
    rows = session.execute(
        select(CareTeamMember, User)
        .join(User, User.id == CareTeamMember.user_id)
        .where(CareTeamMember.child_id == child_id)
        .order_by(CareTeamMember.role, User.name)
    )
    return [(member, user) for member, user in rows]
