"""Program templates: save a child's program under a name, apply it to another child."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from homeprogram.models import Assignment, Child, ProgramTemplate, ProgramTemplateItem
from homeprogram.services import audit, programs
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound, ValidationFailed

MAX_NAME = 120
_COPIED = (
    "activity_id",
    "dose_amount",
    "dose_unit",
    "dose_text",
    "minutes_per_session",
    "days_of_week",
    "times_per_day",
    "setting",
    "anchor",
    "caregiver_note",
    "measure_name",
    "measure_unit",
    "measure_higher_is_better",
)


def _clean_name(
    session: Session, organization_id: int, name: str, exclude_id: int | None = None
) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed(
            {"name": gettext("Name the template, for example “Handwriting starter”.")}
        )
    if len(name) > MAX_NAME:
        raise ValidationFailed({"name": gettext("Use at most %(num)d characters.", num=MAX_NAME)})
    clash = session.scalar(
        select(ProgramTemplate.id).where(
            ProgramTemplate.organization_id == organization_id,
            func.lower(ProgramTemplate.name) == name.lower(),
            ProgramTemplate.id != (exclude_id or 0),
        )
    )
    if clash is not None:
        raise ValidationFailed(
            {"name": gettext("Your organization already has a template of that name.")}
        )
    return name


def save_template(
    session: Session,
    actor: Actor,
    *,
    organization_id: int,
    name: str,
    assignments: Sequence[Assignment],
) -> ProgramTemplate:
    """A new template holding the doses and schedules of the given assignments."""
    errors: dict[str, str] = {}
    try:
        name = _clean_name(session, organization_id, name)
    except ValidationFailed as failed:
        errors.update(failed.errors)
    if not assignments:
        errors["assignment_ids"] = gettext("Choose at least one activity.")
    if errors:
        raise ValidationFailed(errors)
    template = ProgramTemplate(
        organization_id=organization_id, name=name, created_by_id=actor.user_id
    )
    for position, a in enumerate(assignments):
        item = ProgramTemplateItem(position=position, **{n: getattr(a, n) for n in _COPIED})
        if a.end_date is not None:
            item.duration_days = (a.end_date - a.start_date).days + 1
        template.items.append(item)
    session.add(template)
    session.flush()
    audit.record(
        session,
        actor,
        "template.created",
        organization_id=organization_id,
        target_type="program_template",
        target_id=template.id,
        items=len(template.items),
    )
    return template


@dataclass(frozen=True)
class TemplateSummary:
    template: ProgramTemplate
    items: int


def list_templates(session: Session, organization_id: int) -> list[TemplateSummary]:
    count = (
        select(func.count(ProgramTemplateItem.id))
        .where(ProgramTemplateItem.template_id == ProgramTemplate.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(ProgramTemplate, count)
        .where(ProgramTemplate.organization_id == organization_id)
        .order_by(func.lower(ProgramTemplate.name))
    )
    return [TemplateSummary(template=t, items=n) for t, n in rows]


def get_template(session: Session, organization_id: int, template_id: int) -> ProgramTemplate:
    """A template of this organization, or NotFound (another organization's looks missing)."""
    template = session.scalar(
        select(ProgramTemplate)
        .where(ProgramTemplate.id == template_id)
        .options(selectinload(ProgramTemplate.items).joinedload(ProgramTemplateItem.activity))
    )
    if template is None or template.organization_id != organization_id:
        raise NotFound()
    return template


def rename_template(
    session: Session, actor: Actor, template: ProgramTemplate, name: str
) -> ProgramTemplate:
    old = template.name
    template.name = _clean_name(session, template.organization_id, name, exclude_id=template.id)
    if template.name != old:
        audit.record(
            session,
            actor,
            "template.renamed",
            organization_id=template.organization_id,
            target_type="program_template",
            target_id=template.id,
            old=old,
            new=template.name,
        )
    return template


def delete_template(session: Session, actor: Actor, template: ProgramTemplate) -> None:
    """Assignments made from it stay: a template is only a starting point."""
    audit.record(
        session,
        actor,
        "template.deleted",
        organization_id=template.organization_id,
        target_type="program_template",
        target_id=template.id,
        name=template.name,
    )
    session.delete(template)


@dataclass
class Applied:
    created: list[Assignment]
    skipped: list[str]  # titles of activities that are archived now


def apply_template(
    session: Session,
    actor: Actor,
    template: ProgramTemplate,
    child: Child,
    *,
    start_date: date,
    today: date,
) -> Applied:
    """Assign every activity of the template to the child from ``start_date``, in one step."""
    if template.organization_id != child.organization_id:
        raise NotFound()
    if start_date < today:
        raise ValidationFailed(
            {"start_date": gettext("Start today or later: past days cannot be planned.")}
        )
    result = Applied(created=[], skipped=[])
    for item in template.items:
        if item.activity.archived_at is not None:
            result.skipped.append(item.activity.title)
            continue
        end = (
            start_date + timedelta(days=item.duration_days - 1)
            if item.duration_days is not None
            else None
        )
        prescription = programs.Prescription(
            dose_unit=item.dose_unit,
            dose_amount=item.dose_amount,
            dose_text=item.dose_text,
            minutes_per_session=item.minutes_per_session,
            days_of_week=list(item.days_of_week),
            times_per_day=item.times_per_day,
            start_date=start_date,
            end_date=end,
            setting=item.setting,
            anchor=item.anchor,
            caregiver_note=item.caregiver_note,
            measure_name=item.measure_name or "",
            measure_unit=item.measure_unit or "",
            measure_higher_is_better=item.measure_higher_is_better,
        )
        result.created.append(
            programs.create_assignment(
                session, actor, child, item.activity_id, prescription, today=today
            )
        )
    audit.record(
        session,
        actor,
        "template.applied",
        organization_id=child.organization_id,
        child_id=child.id,
        target_type="program_template",
        target_id=template.id,
        created=[a.id for a in result.created],
        skipped=len(result.skipped),
    )
    return result
