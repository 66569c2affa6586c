"""An activity's family-facing text in a language: its own, or a person-written translation.

Built-in translations ship as ``data/activities/<language>/<focus_area>.json`` (the same
slugs as the English files) and are written by :func:`sync_builtin_translations`; a
therapist writes a custom activity's with :func:`save_translation`. Nothing is machine
translated: where an activity has no text in the wanted language, :func:`text_of` gives
its own text and says so (``translated`` is False), and the page shows a line about it.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from homeprogram.models import Activity, ActivityTranslation
from homeprogram.services import safety
from homeprogram.services.audit import Actor
from homeprogram.services.errors import ValidationFailed
from homeprogram.services.library import audit_activity
from homeprogram.services.safety import Safety

TEXT_FIELDS = (
    "title",
    "summary",
    "easier",
    "harder",
    "default_dose",
    "classroom_summary",
    "picture_alt",
)
LIST_FIELDS = (
    "steps",
    "materials",
    "stop_if",
    "safety_notes",
    "classroom_steps",
    "step_picture_alts",
)
MAX_TITLE = 120
MAX_DOSE = 120
MAX_LINES = 20
MAX_LINE = 500


@dataclass(frozen=True)
class ActivityText:
    """What a family or teacher reads of an activity, in ``language``."""

    language: str
    translated: bool  # False: the wanted language has no version; this is the activity's own
    title: str
    summary: str
    steps: tuple[str, ...]
    materials: tuple[str, ...]
    easier: str
    harder: str
    default_dose: str
    classroom_summary: str
    classroom_steps: tuple[str, ...]
    safety: Safety
    picture_alt: str = ""  # the library illustration's text alternative
    step_picture_alts: tuple[str, ...] = ()  # one per step when it has step pictures

    @property
    def teacher_steps(self) -> tuple[str, ...]:
        """The classroom steps when the activity has them, else the parent steps."""
        return self.classroom_steps or self.steps


def _own(activity: Activity, wanted: str) -> ActivityText:
    return ActivityText(
        language=activity.language,
        translated=wanted == activity.language,
        title=activity.title,
        summary=activity.summary or "",
        steps=tuple(activity.steps or ()),
        materials=tuple(activity.materials or ()),
        easier=activity.easier or "",
        harder=activity.harder or "",
        default_dose=activity.default_dose or "",
        classroom_summary=activity.classroom_summary or "",
        classroom_steps=tuple(activity.classroom_steps or ()),
        safety=safety.of(activity),
        picture_alt=activity.picture_alt or "",
        step_picture_alts=tuple(activity.step_picture_alts or ()),
    )


def text_of(activity: Activity, language: str) -> ActivityText:
    """The activity in ``language`` when someone wrote it, else in its own language."""
    t = None if language == activity.language else translation_in(activity, language)
    if t is not None:
        return ActivityText(
            language=language,
            translated=True,
            title=t.title,
            summary=t.summary,
            steps=tuple(t.steps),
            materials=tuple(t.materials),
            easier=t.easier,
            harder=t.harder,
            default_dose=t.default_dose,
            classroom_summary=t.classroom_summary,
            classroom_steps=tuple(t.classroom_steps),
            safety=replace(
                safety.of(activity), stop_if=tuple(t.stop_if), notes=tuple(t.safety_notes)
            ),
            picture_alt=t.picture_alt or activity.picture_alt or "",
            step_picture_alts=tuple(t.step_picture_alts or activity.step_picture_alts or ()),
        )
    return _own(activity, language)


def texts_by_id(
    session: Session, activity_ids: Iterable[int], language: str
) -> dict[int, ActivityText]:
    """Several activities' text in one query with their translations (the week's rows)."""
    ids = sorted(set(activity_ids))
    if not ids:
        return {}
    found = session.scalars(
        select(Activity).where(Activity.id.in_(ids)).options(selectinload(Activity.translations))
    )
    return {activity.id: text_of(activity, language) for activity in found}


def has_language(activity: Activity, language: str) -> bool:
    return activity.language == language or any(
        t.language == language for t in activity.translations
    )


# --- A translation's content, from a data file or a form -------------------------------------


@dataclass(frozen=True)
class TranslationFields:
    title: str
    summary: str = ""
    steps: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()
    easier: str = ""
    harder: str = ""
    default_dose: str = ""
    stop_if: tuple[str, ...] = ()
    safety_notes: tuple[str, ...] = ()
    classroom_summary: str = ""
    classroom_steps: tuple[str, ...] = ()
    picture_alt: str = ""
    step_picture_alts: tuple[str, ...] = ()

    def cleaned(self) -> "TranslationFields":
        return TranslationFields(
            **{name: " ".join(str(getattr(self, name)).split()) for name in TEXT_FIELDS},
            **{
                name: tuple(line.strip() for line in getattr(self, name) if line.strip())
                for name in LIST_FIELDS
            },
        )

    @classmethod
    def of(cls, row: ActivityTranslation) -> "TranslationFields":
        return cls(
            **{name: getattr(row, name) for name in TEXT_FIELDS},
            **{name: tuple(getattr(row, name)) for name in LIST_FIELDS},
        )

    def column_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {name: getattr(self, name) for name in TEXT_FIELDS}
        values.update({name: list(getattr(self, name)) for name in LIST_FIELDS})
        return values


def _original_counts(activity: Activity) -> dict[str, int]:
    own = safety.of(activity)
    return {
        "steps": len(activity.steps or ()),
        "materials": len(activity.materials or ()),
        "stop_if": len(own.stop_if),
        "safety_notes": len(own.notes),
        "classroom_steps": len(activity.classroom_steps or ()),
        "step_picture_alts": len(activity.step_picture_alts or ()),
    }


def validate(fields: TranslationFields, activity: Activity) -> dict[str, str]:
    """Field messages; the lists must line up with the original's (one step for one step)."""
    errors: dict[str, str] = {}
    if not fields.title:
        errors["title"] = gettext("Enter the title in this language.")
    elif len(fields.title) > MAX_TITLE:
        errors["title"] = gettext("Use at most %(num)d characters.", num=MAX_TITLE)
    if len(fields.default_dose) > MAX_DOSE:
        errors["default_dose"] = gettext("Use at most %(num)d characters.", num=MAX_DOSE)
    for name, count in _original_counts(activity).items():
        lines = getattr(fields, name)
        if len(lines) != count:
            errors[name] = gettext(
                "Write %(num)d lines, one for each line of the original.", num=count
            )
        elif any(len(line) > MAX_LINE for line in lines):
            errors[name] = gettext("Keep each line under %(num)d characters.", num=MAX_LINE)
    for name in ("summary", "easier", "harder"):
        if getattr(activity, name) and not getattr(fields, name):
            errors[name] = gettext("The original has this text: write it in this language too.")
    if activity.picture_alt and not fields.picture_alt:
        errors["picture_alt"] = gettext(
            "The original has this text: write it in this language too."
        )
    if activity.classroom_summary and not fields.classroom_summary:
        errors["classroom_summary"] = gettext(
            "The original has this text: write it in this language too."
        )
    return errors


def save_translation(
    session: Session, actor: Actor, activity: Activity, language: str, fields: TranslationFields
) -> ActivityTranslation:
    """A therapist's version of their organisation's custom activity in ``language``."""
    fields = fields.cleaned()
    if language == activity.language:
        raise ValidationFailed({"language": gettext("This is the activity's own language.")})
    errors = validate(fields, activity)
    if errors:
        raise ValidationFailed(errors)
    row = _upsert(session, activity, language, fields)
    audit_activity(session, actor, "activity.translation_saved", activity, language=language)
    return row


def translation_in(activity: Activity, language: str) -> ActivityTranslation | None:
    return next((t for t in activity.translations if t.language == language), None)


def remove_translation(session: Session, actor: Actor, activity: Activity, language: str) -> bool:
    row = translation_in(activity, language)
    if row is None:
        return False
    activity.translations.remove(row)
    audit_activity(session, actor, "activity.translation_removed", activity, language=language)
    return True


def _upsert(
    session: Session, activity: Activity, language: str, fields: TranslationFields
) -> ActivityTranslation:
    row = translation_in(activity, language)
    values = fields.column_values()
    if row is None:
        row = ActivityTranslation(language=language, **values)
        activity.translations.append(row)
    else:
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
    session.flush()
    return row


# --- Built-in translations from the data files ------------------------------------------------


class TranslationDataError(Exception):
    """A translation file that cannot be loaded; the message names file and slug."""


_ITEM_KEYS = {
    "slug",
    "language",
    "title",
    "summary",
    "steps",
    "materials",
    "easier",
    "harder",
    "default_dose",
    "safety",
    "classroom",
    "picture_alt",
    "step_picture_alts",
}


def _parse_item(path: Path, language: str, item: Any) -> tuple[str, TranslationFields]:
    if not isinstance(item, dict) or not isinstance(item.get("slug"), str):
        raise TranslationDataError(f"{path}: every entry must be an object with a slug")
    label = f"{path.parent.name}/{path.name}: {item['slug']!r}"
    unknown = set(item) - _ITEM_KEYS
    if unknown:
        raise TranslationDataError(f"{label}: unknown field(s) {', '.join(sorted(unknown))}")
    if item.get("language") != language:
        raise TranslationDataError(f"{label}: language must be {language!r} (the folder)")
    safety_part = item.get("safety") or {}
    classroom = item.get("classroom") or {}

    def text(value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise TranslationDataError(f"{label}: {name} must be a string")
        return value

    def lines(value: Any, name: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise TranslationDataError(f"{label}: {name} must be a list of non-empty strings")
        return tuple(value)

    fields = TranslationFields(
        title=text(item.get("title"), "title"),
        summary=text(item.get("summary", ""), "summary"),
        steps=lines(item.get("steps", []), "steps"),
        materials=lines(item.get("materials", []), "materials"),
        easier=text(item.get("easier", ""), "easier"),
        harder=text(item.get("harder", ""), "harder"),
        default_dose=text(item.get("default_dose", ""), "default_dose"),
        stop_if=lines(safety_part.get("stop_if", []), "safety.stop_if"),
        safety_notes=lines(safety_part.get("notes", []), "safety.notes"),
        classroom_summary=text(classroom.get("summary", ""), "classroom.summary"),
        classroom_steps=lines(classroom.get("steps", []), "classroom.steps"),
        picture_alt=text(item.get("picture_alt", ""), "picture_alt"),
        step_picture_alts=lines(item.get("step_picture_alts", []), "step_picture_alts"),
    )
    if fields != fields.cleaned():
        raise TranslationDataError(f"{label}: has blank entries or extra spaces")
    return item["slug"], fields


def load_builtin_translations(directory: Path) -> dict[str, list[tuple[str, Path, Any]]]:
    """language -> [(slug, file, fields)] from ``directory/<language>/*.json``."""
    found: dict[str, list[tuple[str, Path, Any]]] = {}
    for folder in sorted(p for p in directory.iterdir() if p.is_dir()):
        for path in sorted(folder.glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
                raise TranslationDataError(f"{path}: cannot be read as JSON: {error}") from error
            if not isinstance(data, list):
                raise TranslationDataError(f"{path}: must hold a list of activities")
            for item in data:
                slug, fields = _parse_item(path, folder.name, item)
                found.setdefault(folder.name, []).append((slug, path, fields))
    return found


def sync_builtin_translations(session: Session, directory: Path) -> tuple[int, int]:
    """Write the shipped translations of the built-in activities; returns (created, updated).

    Each entry must match a built-in activity of the same slug in the files' source
    language, line for line (steps, materials, safety lines, classroom steps).
    """
    originals = {
        a.slug: a
        for a in session.scalars(
            select(Activity).where(Activity.organization_id.is_(None), Activity.slug.is_not(None))
        )
    }
    created = updated = 0
    for language, entries in load_builtin_translations(directory).items():
        seen: set[str] = set()
        for slug, path, fields in entries:
            label = f"{language}/{path.name}: {slug!r}"
            activity = originals.get(slug)
            if activity is None:
                raise TranslationDataError(f"{label}: no built-in activity has this slug")
            if slug in seen:
                raise TranslationDataError(f"{label}: translated twice")
            seen.add(slug)
            errors = validate(fields, activity)
            if errors:
                raise TranslationDataError(
                    f"{label}: " + "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
                )
            before = translation_in(activity, language)
            if before is None:
                created += 1
            elif any(getattr(before, k) != v for k, v in fields.column_values().items()):
                updated += 1
            _upsert(session, activity, language, fields)
    return created, updated
