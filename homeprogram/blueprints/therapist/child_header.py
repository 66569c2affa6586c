"""What the therapist's child page shows at a glance: the header (age, family language, care
team) and, per activity of the program, its adherence and how the child finds it."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from babel import Locale, UnknownLocaleError
from flask_babel import get_locale
from sqlalchemy.orm import Session

from homeprogram.models import CareRole, Child
from homeprogram.services import adherence, children, programs
from homeprogram.services.reports import RESPONSES
from homeprogram.services.reports import _responses as responses_between

GLANCE_DAYS = 14  # adherence over the last two weeks, up to yesterday


@dataclass(frozen=True)
class Glance:
    percent: int | None  # None: nothing was expected ("no plan")
    done: int
    expected: int
    feels: str | None  # the child's most frequent response: easy | just_right | hard
    responses: int  # how many responses that comes from


@dataclass(frozen=True)
class Header:
    born: date  # the first of the birth month (only the month and year are stored)
    years: int
    months: int
    languages: list[str]  # the family's language (or the caregivers'), in the viewer's
    team: list[tuple[str, str]]  # (name, role)


def header(session: Session, child: Child, today: date) -> Header:
    months = (today.year - child.birth_year) * 12 + today.month - child.birth_month
    months = max(0, months)
    team = children.care_team(session, child.id)
    viewer = get_locale() or Locale.parse("en")
    # The language the therapist recorded; until then, the caregivers' own settings.
    codes = (
        [child.family_language]
        if child.family_language
        else [
            user.locale
            for member, user in team
            if member.role == CareRole.CAREGIVER and user.locale
        ]
    )
    languages: list[str] = []
    for code in codes:
        try:
            name = Locale.parse(code).get_display_name(viewer) or code
        except (UnknownLocaleError, ValueError):
            name = code
        if name not in languages:
            languages.append(name)
    return Header(
        born=date(child.birth_year, child.birth_month, 1),
        years=months // 12,
        months=months % 12,
        languages=languages,
        team=[(user.name, member.role) for member, user in team],
    )


def glances(
    session: Session, child: Child, items: Sequence[programs.ProgramItem], today: date
) -> dict[int, Glance]:
    """Per current assignment id: the last ``GLANCE_DAYS`` days, up to yesterday."""
    start, end = today - timedelta(days=GLANCE_DAYS), today - timedelta(days=1)
    data = adherence.child_adherence(session, child.id, start, end)
    by_version = {aid: chain for chain in data.chains for aid in chain.assignment_ids}
    said = responses_between(session, child.id, start, end)
    out: dict[int, Glance] = {}
    for item in items:
        chain = by_version.get(item.assignment.id)
        tally = chain.tally if chain is not None else adherence.Tally()
        counts = {r: 0 for r in RESPONSES}
        for version in item.versions:
            for response, n in said.get(version.id, {}).items():
                if response in counts:
                    counts[response] += n
        total = sum(counts.values())
        feels = max(RESPONSES, key=lambda r: counts[r]) if total else None
        out[item.assignment.id] = Glance(tally.percent, tally.done, tally.expected, feels, total)
    return out
