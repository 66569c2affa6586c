"""The activity library: built-in activities plus each organization's own.

Built-in activities ship as JSON files in ``homeprogram/data/activities/`` (one file per
focus area) and are written to the database by :func:`sync_builtin`, keyed by
(slug, language). Custom activities belong to one organization (``organization_id``) and
have no slug; only that organization's staff can see, change or use them.
"""

import json
import re
from dataclasses import dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from typing import Any

from flask_babel import gettext
from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from homeprogram import illustrations
from homeprogram.models import (
    Activity,
    Assignment,
    CareRole,
    CareTeamMember,
    Child,
    FocusArea,
    OrgMembership,
    Setting,
)
from homeprogram.models.base import utcnow
from homeprogram.services import audit, safety
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.services.safety import Safety

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "data" / "activities"
PICTURES = "pictures"  # the illustrations' folder, beside the activity files
FOCUS_AREA_NOTES = Path(__file__).resolve().parent.parent / "data" / "focus_areas.json"

AGE_MIN, AGE_MAX = 0, 21
MAX_STEPS = 12
MAX_MATERIALS = 20
MAX_MINUTES = 120
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")


@dataclass(frozen=True)
class ActivityFields:
    """The editable content of an activity, as plain values (a form or a data file)."""

    title: str
    focus_area: str
    age_min: int
    age_max: int
    summary: str = ""
    steps: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()
    easier: str = ""
    harder: str = ""
    default_dose: str = ""
    default_minutes: int = 5
    classroom_ok: bool = False
    safety: Safety = field(default_factory=Safety)
    classroom_summary: str = ""
    classroom_steps: tuple[str, ...] = ()
    rationale: str = ""
    picture_alt: str = ""
    step_picture_alts: tuple[str, ...] = ()

    @classmethod
    def of(cls, activity: Activity) -> "ActivityFields":
        return cls(
            title=activity.title,
            focus_area=activity.focus_area,
            age_min=activity.age_min,
            age_max=activity.age_max,
            summary=activity.summary,
            steps=tuple(activity.steps),
            materials=tuple(activity.materials),
            easier=activity.easier,
            harder=activity.harder,
            default_dose=activity.default_dose,
            default_minutes=activity.default_minutes,
            classroom_ok=activity.classroom_ok,
            safety=Safety.from_json(activity.safety),
            classroom_summary=activity.classroom_summary or "",
            classroom_steps=tuple(activity.classroom_steps or ()),
            rationale=activity.rationale or "",
            picture_alt=activity.picture_alt or "",
            step_picture_alts=tuple(activity.step_picture_alts or ()),
        )

    def cleaned(self) -> "ActivityFields":
        """Whitespace trimmed, blank steps and materials dropped."""
        return replace(
            self,
            title=self.title.strip(),
            summary=self.summary.strip(),
            steps=_lines(self.steps),
            materials=_lines(self.materials),
            easier=self.easier.strip(),
            harder=self.harder.strip(),
            default_dose=self.default_dose.strip(),
            safety=self.safety.cleaned(),
            classroom_summary=self.classroom_summary.strip(),
            classroom_steps=_lines(self.classroom_steps),
            rationale=self.rationale.strip(),
            picture_alt=self.picture_alt.strip(),
            step_picture_alts=_lines(self.step_picture_alts),
        )

    def column_values(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("steps", "materials", "classroom_steps", "step_picture_alts"):
            values[name] = list(values[name])
        values["safety"] = self.safety.to_json()
        return values


def _lines(entries: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(entry.strip() for entry in entries if entry.strip())


def validate_fields(values: ActivityFields) -> dict[str, str]:
    """Field messages for content that cannot be saved (empty when it is fine)."""
    errors: dict[str, str] = {}
    if not values.title:
        errors["title"] = gettext("Enter a title.")
    elif len(values.title) > 120:
        errors["title"] = gettext("Use at most %(num)d characters.", num=120)
    if values.focus_area not in {area.value for area in FocusArea}:
        errors["focus_area"] = gettext("Choose a focus area from the list.")
    for name in ("age_min", "age_max"):
        age = getattr(values, name)
        if not isinstance(age, int) or not AGE_MIN <= age <= AGE_MAX:
            errors[name] = gettext(
                "Enter an age from %(low)d to %(high)d years.", low=AGE_MIN, high=AGE_MAX
            )
    if "age_min" not in errors and "age_max" not in errors and values.age_min > values.age_max:
        errors["age_max"] = gettext("The oldest age cannot be below the youngest age.")
    if len(values.summary) > 400:
        errors["summary"] = gettext("Use at most %(num)d characters.", num=400)
    if not values.steps:
        errors["steps"] = gettext("Write at least one step, one per line.")
    elif len(values.steps) > MAX_STEPS:
        errors["steps"] = gettext(
            "Use at most %(num)d steps; fewer steps are easier to follow.", num=MAX_STEPS
        )
    elif any(len(step) > 400 for step in values.steps):
        errors["steps"] = gettext("Keep each step under %(chars)d characters.", chars=400)
    if len(values.materials) > MAX_MATERIALS or any(len(m) > 120 for m in values.materials):
        errors["materials"] = gettext(
            "List at most %(num)d materials of up to %(chars)d characters.",
            num=MAX_MATERIALS,
            chars=120,
        )
    for name in ("easier", "harder"):
        if len(getattr(values, name)) > 600:
            errors[name] = gettext("Use at most %(num)d characters.", num=600)
    if len(values.default_dose) > 120:
        errors["default_dose"] = gettext("Use at most %(num)d characters.", num=120)
    errors.update(safety.validate(values.safety))
    if len(values.classroom_summary) > 400:
        errors["classroom_summary"] = gettext("Use at most %(num)d characters.", num=400)
    if len(values.classroom_steps) > MAX_STEPS or any(
        len(step) > 400 for step in values.classroom_steps
    ):
        errors["classroom_steps"] = gettext(
            "Use at most %(num)d steps of up to %(chars)d characters.", num=MAX_STEPS, chars=400
        )
    if len(values.rationale) > 1000:
        errors["rationale"] = gettext("Use at most %(num)d characters.", num=1000)
    if (
        not isinstance(values.default_minutes, int)
        or not 1 <= values.default_minutes <= MAX_MINUTES
    ):
        errors["default_minutes"] = gettext("Enter minutes from 1 to %(num)d.", num=MAX_MINUTES)
    return errors


# --- Finding activities -------------------------------------------------------------------


def visible_activities(organization_id: int | None) -> Select[tuple[Activity]]:
    """Built-in activities and the organization's own; archived ones excluded."""
    owner = Activity.organization_id.is_(None)
    if organization_id is not None:
        owner = or_(owner, Activity.organization_id == organization_id)
    return select(Activity).where(owner, Activity.archived_at.is_(None))


def search(
    session: Session,
    organization_id: int | None,
    *,
    query: str = "",
    focus_area: str | None = None,
    age: int | None = None,
    classroom: bool | None = None,
    limit: int = 100,
) -> list[Activity]:
    stmt = visible_activities(organization_id)
    words = query.strip().lower().split()
    for word in words[:8]:
        # "buttons" should find "button" and "buttoning": drop a plural s.
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        pattern = f"%{_escape_like(word)}%"
        stmt = stmt.where(
            or_(
                func.lower(Activity.title).like(pattern, escape="\\"),
                func.lower(Activity.summary).like(pattern, escape="\\"),
            )
        )
    if focus_area:
        stmt = stmt.where(Activity.focus_area == focus_area)
    if age is not None:
        stmt = stmt.where(Activity.age_min <= age, Activity.age_max >= age)
    if classroom is not None:
        stmt = stmt.where(Activity.classroom_ok.is_(classroom))
    return list(
        session.scalars(stmt.order_by(func.lower(Activity.title), Activity.id).limit(limit))
    )


def _escape_like(word: str) -> str:
    # A typed "%" or "_" is looked for literally, not as a wildcard.
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get_visible(session: Session, organization_id: int | None, activity_id: int) -> Activity:
    """An activity the organization may see and use, or NotFound.

    Archived activities are returned too: assignments made before the archive keep
    showing them. Use :func:`get_assignable` to pick an activity for a new assignment.
    """
    activity = session.get(Activity, activity_id)
    if activity is None or (
        activity.organization_id is not None and activity.organization_id != organization_id
    ):
        raise NotFound()
    return activity


def get_assignable(session: Session, organization_id: int | None, activity_id: int) -> Activity:
    """An activity the organization may prescribe now: visible and not archived."""
    activity = get_visible(session, organization_id, activity_id)
    if activity.archived_at is not None:
        raise NotFound()
    return activity


def get_own_custom(session: Session, organization_id: int | None, activity_id: int) -> Activity:
    """A custom activity of this organization, the only kind anyone may change."""
    activity = session.get(Activity, activity_id)
    if activity is None or organization_id is None or activity.organization_id != organization_id:
        raise NotFound()
    return activity


_ILLUSTRATION_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def illustration_path(name: str) -> Path | None:
    """The file of a shipped illustration (``<slug>`` or ``<slug>-step-<n>``), or None."""
    if not _ILLUSTRATION_NAME.match(name) or len(name) > 100:
        return None
    path = illustrations.picture_file(BUILTIN_DIR / PICTURES, name)
    return path if path.is_file() else None


def can_view_picture(session: Session, user_id: int | None, activity: Activity) -> bool:
    """Whether the user may see this activity's picture.

    Built-in pictures: any signed-in user. A custom activity's picture: active staff of
    the owning organization, and caregivers (or teachers, for classroom assignments) of a
    child of that organization who has the activity assigned.
    """
    if user_id is None:
        return False
    if activity.organization_id is None:
        return True
    staff = session.scalar(
        select(OrgMembership.id).where(
            OrgMembership.user_id == user_id,
            OrgMembership.organization_id == activity.organization_id,
            OrgMembership.active,
        )
    )
    if staff is not None:
        return True
    family = CareTeamMember.role == CareRole.CAREGIVER
    # Teachers see only what is meant for the classroom.
    school = and_(
        CareTeamMember.role == CareRole.TEACHER,
        Assignment.setting.in_([Setting.CLASSROOM, Setting.BOTH]),
    )
    assigned = (
        select(Assignment.id)
        .join(Child, Child.id == Assignment.child_id)
        .join(CareTeamMember, CareTeamMember.child_id == Assignment.child_id)
        .where(
            Assignment.activity_id == activity.id,
            Child.organization_id == activity.organization_id,
            CareTeamMember.user_id == user_id,
            or_(family, school),
        )
    )
    return bool(session.scalar(select(exists(assigned))))


# --- Custom activities --------------------------------------------------------------------


def audit_activity(
    session: Session, actor: Actor, action: str, activity: Activity, **detail: Any
) -> None:
    """An audit row about a change to one activity (of its organization's library)."""
    audit.record(
        session,
        actor,
        action,
        organization_id=activity.organization_id,
        target_type="activity",
        target_id=activity.id,
        **detail,
    )


def create_custom(
    session: Session,
    actor: Actor,
    organization_id: int,
    values: ActivityFields,
    *,
    based_on: Activity | None = None,
    language: str = "en",
) -> Activity:
    """A new activity owned by the organization, optionally adapted from another one."""
    values = values.cleaned()
    errors = validate_fields(values)
    if errors:
        raise ValidationFailed(errors)
    if based_on is not None:
        # Only an activity the organization can see may be adapted.
        based_on = get_visible(session, organization_id, based_on.id)
    activity = Activity(
        organization_id=organization_id,
        slug=None,
        language=language,
        based_on_id=based_on.id if based_on is not None else None,
        **values.column_values(),
    )
    session.add(activity)
    session.flush()
    audit_activity(session, actor, "activity.created", activity, based_on_id=activity.based_on_id)
    return activity


def update_custom(
    session: Session, actor: Actor, organization_id: int, activity: Activity, values: ActivityFields
) -> list[str]:
    """Change a custom activity of the organization; returns the names of changed fields."""
    _require_own(activity, organization_id)
    values = values.cleaned()
    errors = validate_fields(values)
    if errors:
        raise ValidationFailed(errors)
    changed = _apply(activity, values.column_values())
    if changed:
        audit_activity(session, actor, "activity.updated", activity, fields=changed)
    return changed


def archive_custom(
    session: Session, actor: Actor, organization_id: int, activity: Activity
) -> None:
    """Hide a custom activity from the library; assignments that use it keep working."""
    _require_own(activity, organization_id)
    if activity.archived_at is not None:
        return
    activity.archived_at = utcnow()
    audit_activity(session, actor, "activity.archived", activity)


def restore_custom(
    session: Session, actor: Actor, organization_id: int, activity: Activity
) -> None:
    _require_own(activity, organization_id)
    if activity.archived_at is None:
        return
    activity.archived_at = None
    audit_activity(session, actor, "activity.restored", activity)


def archived_custom(session: Session, organization_id: int) -> list[Activity]:
    return list(
        session.scalars(
            select(Activity)
            .where(Activity.organization_id == organization_id, Activity.archived_at.is_not(None))
            .order_by(func.lower(Activity.title), Activity.id)
        )
    )


def set_picture(
    session: Session, actor: Actor, organization_id: int, activity: Activity, name: str | None
) -> str | None:
    """Attach a stored picture (or none); returns the previous file name to delete."""
    _require_own(activity, organization_id)
    previous = activity.picture
    activity.picture = name
    audit_activity(
        session,
        actor,
        "activity.picture_removed" if name is None else "activity.picture_set",
        activity,
    )
    return previous


def _require_own(activity: Activity, organization_id: int) -> None:
    # Built-ins (no organization) can never be changed: they are duplicated instead.
    if activity.organization_id is None or activity.organization_id != organization_id:
        raise NotFound()


def _apply(activity: Activity, values: dict[str, Any]) -> list[str]:
    changed = []
    for name, value in values.items():
        if getattr(activity, name) != value:
            setattr(activity, name, value)
            changed.append(name)
    return changed


# --- Built-in activities from the data files -----------------------------------------------


class LibraryDataError(Exception):
    """A built-in activity file that cannot be loaded; the message names file and slug."""


@dataclass(frozen=True)
class BuiltinActivity:
    slug: str
    language: str
    values: ActivityFields
    illustration: str | None = None  # the version of its pictures (None: it has none)


_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "slug": str,
    "title": str,
    "focus_area": str,
    "language": str,
    "age_min": int,
    "age_max": int,
    "summary": str,
    "steps": list,
    "materials": list,
    "easier": str,
    "harder": str,
    "default_dose": str,
    "default_minutes": int,
    "classroom_ok": bool,
    "safety": dict,
    "classroom": dict,  # only with classroom_ok (and then required)
    "rationale": str,
    "picture_alt": str,  # with the picture (pictures/<slug>.svg), and then required
    "step_picture_alts": list,  # with step pictures (pictures/<slug>-step-<n>.svg)
}
_SAFETY_TYPES: dict[str, type] = {
    "small_parts": bool,
    "balloons": bool,
    "supervision": str,
    "show_first": bool,
    "stop_if": list,
    "notes": list,
}
# Keys every data file entry must have ("classroom" depends on classroom_ok).
_REQUIRED = set(_FIELD_TYPES) - {"classroom", "picture_alt", "step_picture_alts"}


def load_builtin(directory: Path | None = None) -> list[BuiltinActivity]:
    """Read and check every ``<focus_area>.json`` file; raise LibraryDataError on any fault."""
    directory = directory or BUILTIN_DIR
    files = sorted(directory.glob("*.json"))
    if not files:
        raise LibraryDataError(f"{directory}: no activity files (*.json) found")
    loaded: list[BuiltinActivity] = []
    seen: dict[tuple[str, str], str] = {}
    for path in files:
        for item in _read_file(path):
            key = (item.slug, item.language)
            if key in seen:
                raise LibraryDataError(
                    f"{path.name}: activity {item.slug!r} ({item.language}) "
                    f"is already defined in {seen[key]}"
                )
            seen[key] = path.name
            loaded.append(item)
    return loaded


def _read_file(path: Path) -> list[BuiltinActivity]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LibraryDataError(f"{path.name}: cannot be read as JSON: {error}") from error
    if not isinstance(data, list):
        raise LibraryDataError(f"{path.name}: must hold a list of activities")
    if path.stem not in {area.value for area in FocusArea}:
        raise LibraryDataError(
            f"{path.name}: the file name must be a focus area "
            f"({', '.join(area.value for area in FocusArea)})"
        )
    return [_parse_item(path, index, item) for index, item in enumerate(data)]


def _parse_item(path: Path, index: int, item: Any) -> BuiltinActivity:
    label = f"{path.name}: activity #{index + 1}"
    if not isinstance(item, dict):
        raise LibraryDataError(f"{label}: must be an object")
    slug = item.get("slug")
    if isinstance(slug, str) and slug:
        label = f"{path.name}: activity {slug!r}"

    def fail(message: str) -> LibraryDataError:
        return LibraryDataError(f"{label}: {message}")

    unknown = set(item) - set(_FIELD_TYPES)
    if unknown:
        raise fail(f"unknown field(s) {', '.join(sorted(unknown))}")
    missing = _REQUIRED - set(item)
    if missing:
        raise fail(f"missing field(s) {', '.join(sorted(missing))}")
    _check_types(item, _FIELD_TYPES, "", fail)
    for name in ("steps", "materials", "step_picture_alts"):
        if not all(isinstance(entry, str) for entry in item.get(name, ())):
            raise fail(f"{name} must be a list of strings")
    if not _SLUG.match(item["slug"]) or len(item["slug"]) > 80:
        raise fail("slug must be lowercase words joined by hyphens (at most 80 characters)")
    if not _LANGUAGE.match(item["language"]):
        raise fail("language must be a language code such as 'en' or 'es'")
    if item["focus_area"] != path.stem:
        raise fail(f"focus_area is {item['focus_area']!r} but the file is for {path.stem!r}")
    item_safety = _parse_safety(item["safety"], fail)
    classroom_summary, classroom_steps = _parse_classroom(item, fail)
    values = ActivityFields(
        **{
            f.name: item[f.name]
            for f in fields(ActivityFields)
            if f.name in _REQUIRED and f.name not in ("steps", "materials", "safety", "rationale")
        },
        rationale=item["rationale"],
        steps=tuple(item["steps"]),
        materials=tuple(item["materials"]),
        safety=item_safety,
        classroom_summary=classroom_summary,
        classroom_steps=classroom_steps,
        picture_alt=item.get("picture_alt", ""),
        step_picture_alts=tuple(item.get("step_picture_alts", ())),
    )
    if values != values.cleaned():
        raise fail("has blank entries or leading/trailing spaces")
    errors = validate_fields(values)
    # Shipped activities meet a stricter bar than custom ones: complete and short.
    if not 3 <= len(values.steps) <= 6:
        errors.setdefault("steps", "needs 3 to 6 steps")
    for name in ("summary", "easier", "harder", "default_dose", "rationale"):
        if not getattr(values, name):
            errors.setdefault(name, "must not be empty")
    if not values.materials:
        errors.setdefault("materials", "list at least one thing (or 'nothing needed')")
    age_rules = safety.age_rule_errors(values.safety, values.age_min)
    if age_rules:
        errors.setdefault("safety", "; ".join(age_rules))
    if errors:
        raise fail("; ".join(f"{name}: {message}" for name, message in sorted(errors.items())))
    try:
        version = illustrations.version_of(
            path.parent / PICTURES,
            item["slug"],
            values.picture_alt,
            values.step_picture_alts,
            len(values.steps),
        )
    except illustrations.IllustrationError as error:
        raise fail(str(error)) from error
    return BuiltinActivity(
        slug=item["slug"], language=item["language"], values=values, illustration=version
    )


def _check_types(item: dict[str, Any], types: dict[str, Any], prefix: str, fail: Any) -> None:
    for name, kind in types.items():
        if name not in item:
            continue
        value = item[name]
        # bool is an int in Python; a true/false age is still a mistake.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise fail(f"{prefix}{name} must be of type {kind.__name__}")


def _string_list(value: list[Any], name: str, fail: Any) -> tuple[str, ...]:
    if not all(isinstance(entry, str) and entry for entry in value):
        raise fail(f"{name} must be a list of non-empty strings")
    return tuple(value)


def _parse_safety(data: dict[str, Any], fail: Any) -> Safety:
    keys = set(data)
    if keys != set(_SAFETY_TYPES):
        wrong = [f"unknown {k}" for k in sorted(keys - set(_SAFETY_TYPES))]
        wrong += [f"missing {k}" for k in sorted(set(_SAFETY_TYPES) - keys)]
        raise fail(f"safety: {', '.join(wrong)}")
    _check_types(data, _SAFETY_TYPES, "safety.", fail)
    if data["supervision"] not in safety.SUPERVISION_LEVELS:
        raise fail(f"safety.supervision must be one of {', '.join(safety.SUPERVISION_LEVELS)}")
    return Safety(
        small_parts=data["small_parts"],
        balloons=data["balloons"],
        supervision=data["supervision"],
        show_first=data["show_first"],
        stop_if=_string_list(data["stop_if"], "safety.stop_if", fail),
        notes=_string_list(data["notes"], "safety.notes", fail),
    )


def _parse_classroom(item: dict[str, Any], fail: Any) -> tuple[str, tuple[str, ...]]:
    """The teacher's wording: required with classroom_ok, refused without it."""
    classroom = item.get("classroom")
    if not item["classroom_ok"]:
        if classroom is not None:
            raise fail("classroom wording is only for classroom_ok activities")
        return "", ()
    if classroom is None:
        raise fail("classroom_ok activities need classroom wording (summary and steps)")
    if set(classroom) != {"summary", "steps"}:
        raise fail("classroom must have exactly the keys summary and steps")
    summary, steps = classroom["summary"], classroom["steps"]
    if not isinstance(summary, str) or not summary.strip():
        raise fail("classroom.summary must be a non-empty string")
    if not isinstance(steps, list) or not steps:
        raise fail("classroom.steps must be a non-empty list of strings")
    return summary, _string_list(steps, "classroom.steps", fail)


def sync_builtin(session: Session, directory: Path | None = None) -> tuple[int, int]:
    """Write the built-in activities (and their translations) to the database; returns the
    activities (created, updated).

    Matched by (slug, language), so running it again changes nothing. A built-in whose
    slug is no longer in the files is archived (counted as updated), never deleted:
    assignments may still point to it. One that comes back is restored.
    """
    items = load_builtin(directory)
    existing = {
        (activity.slug, activity.language): activity
        for activity in session.scalars(
            select(Activity).where(Activity.organization_id.is_(None), Activity.slug.is_not(None))
        )
    }
    created = updated = 0
    for item in items:
        values = item.values.column_values()
        values["illustration"] = item.illustration
        activity = existing.pop((item.slug, item.language), None)
        if activity is None:
            session.add(
                Activity(organization_id=None, slug=item.slug, language=item.language, **values)
            )
            created += 1
            continue
        changed = _apply(activity, values)
        if activity.archived_at is not None:
            activity.archived_at = None
            changed.append("archived_at")
        if changed:
            updated += 1
    now = utcnow()
    for gone in existing.values():
        if gone.archived_at is None:
            gone.archived_at = now
            updated += 1
    session.flush()
    # Their versions in other languages, from <directory>/<language>/*.json.
    from homeprogram.services import activity_text  # it imports this module

    try:
        activity_text.sync_builtin_translations(session, directory or BUILTIN_DIR)
    except activity_text.TranslationDataError as error:
        raise LibraryDataError(str(error)) from error
    return created, updated


# --- Evidence notes for therapists, per focus area --------------------------------------------


@cache
def _focus_area_notes(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def focus_area_note(focus_area: str) -> str:
    """The short evidence note for therapists about a focus area ("" when there is none).

    Staff-only text from ``data/focus_areas.json`` (focus area -> note), English for now.
    """
    return _focus_area_notes(FOCUS_AREA_NOTES).get(focus_area, "")
