"""JSON shapes of the API (documented in ``docs.py``)."""

from datetime import date, datetime
from typing import Any

from flask_babel import get_locale

from homeprogram.models import Child, CompletionLog
from homeprogram.services import activity_text, today


def _instant(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _day(value: date) -> str:
    return value.isoformat()


def child_json(child: Child, role: str) -> dict[str, Any]:
    return {
        "id": child.id,
        "display_name": child.display_name,
        "timezone": child.timezone,
        "role": role,
    }


def log_json(log: CompletionLog) -> dict[str, Any]:
    return {
        "id": log.id,
        "client_id": log.client_id,
        "assignment_id": log.assignment_id,
        "child_id": log.child_id,
        "logged_by_id": log.logged_by_id,
        "occurred_at": _instant(log.occurred_at),
        "local_date": _day(log.local_date),
        "minutes": log.minutes,
        "response": log.response,
        "note": log.note,
        "measure_value": log.measure_value,
        "created_at": _instant(log.created_at),
        "deleted_at": _instant(log.deleted_at),
    }


def _reader_language() -> str:
    return str(get_locale() or "en")


def card_json(card: today.Card) -> dict[str, Any]:
    a = card.assignment
    # In the caller's language when someone wrote it (``language`` says which it is).
    text = activity_text.text_of(a.activity, _reader_language())
    return {
        "assignment_id": a.id,
        "activity": {
            "id": a.activity.id,
            "language": text.language,
            "title": text.title,
            "summary": text.summary,
            "steps": list(text.steps),
            "materials": list(text.materials),
            "safety": {
                "small_parts": text.safety.small_parts,
                "balloons": text.safety.balloons,
                "supervision": text.safety.supervision,
                "show_first": text.safety.show_first,
                "stop_if": list(text.safety.stop_if),
                "notes": list(text.safety.notes),
            },
        },
        "anchor": a.anchor,
        "dose": {"amount": a.dose_amount, "unit": a.dose_unit, "text": a.dose_text},
        "times_per_day": a.times_per_day,
        "caregiver_note": a.caregiver_note,
        "measure": (
            {"name": a.measure_name, "unit": a.measure_unit} if a.measure_name is not None else None
        ),
        "expected": card.expected,
        "done": card.done,
        "extra": card.extra,
        "complete": card.complete,
        "my_logs": [log_json(log) for log in card.my_logs],
    }


def day_json(plan: today.DayPlan) -> dict[str, Any]:
    return {
        "child_id": plan.child.id,
        "date": _day(plan.day),
        "expected": plan.expected,
        "done": plan.done,
        "complete": plan.complete,
        "groups": [
            {"anchor": group.anchor, "assignments": [card_json(card) for card in group.cards]}
            for group in plan.groups
        ],
    }


def week_json(week: today.Week, streak: int) -> dict[str, Any]:
    return {
        "child_id": week.child.id,
        "start": _day(week.start),
        "today": _day(week.today),
        "expected_so_far": week.expected_so_far,
        "done_so_far": week.done_so_far,
        "extra": week.extra,
        "stars": week.stars,
        "streak": streak,
        "days": [
            {"date": _day(d.day), "expected": d.expected, "done": d.done, "star": d.star}
            for d in week.days
        ],
        "activities": [
            {
                "activity_id": row.activity_id,
                "title": row.title,
                "days": [
                    {
                        "date": _day(cell.day),
                        "state": cell.state,
                        "expected": cell.expected,
                        "done": cell.done,
                        "extra": cell.extra,
                    }
                    for cell in row.cells
                ],
            }
            for row in week.rows
        ],
    }
