"""Therapists' weekly summaries and low-adherence alerts: inbox, push and (optional) email.

Figures and flags come from ``services.adherence`` (DESIGN.md's one definition). Each
summary and alert is claimed by a unique row before anything is sent: the inbox message
(user, "summary:<ISO week>") for a summary, an ``AdherenceAlert`` (child, flag, ISO week)
for an alert, so two scheduler processes never send either twice.

Push payloads say only that something is waiting in the inbox; the email carries the
child's first name (we store no surname), the adherence figures and the flags, never a
diagnosis (we store none).
"""

import logging
import smtplib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flask_babel import force_locale, gettext, ngettext
from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from homeprogram.db import Transaction
from homeprogram.formatting import format_when
from homeprogram.models import (
    AdherenceAlert,
    CareRole,
    CareTeamMember,
    Child,
    InboxMessage,
    OrgMembership,
    User,
)
from homeprogram.models.base import utcnow
from homeprogram.services import adherence, claims, jobs, push
from homeprogram.services import email as email_service

log = logging.getLogger(__name__)
SUMMARY_JOB = "weekly summaries"
ALERT_JOB = "caseload alerts"

SUMMARY_TIME = time(7, 0)  # Monday, therapist's local time
SUMMARY_TTL_SECONDS = 12 * 3600
ALERT_TTL_SECONDS = 12 * 3600
INBOX_PATH = "/inbox"
ALERT_EVERY_MINUTES = 10


class Sender(Protocol):
    def send_many(
        self, jobs: Sequence[push.PushJob]
    ) -> list[tuple[push.PushJob, push.SendResult]]: ...


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def flag_text(flag: str, overview: adherence.Overview | None = None) -> str:
    if flag == adherence.LOW_ADHERENCE:
        return gettext("fewer than half of the planned sessions done over the last 14 days")
    if flag == adherence.NO_RECENT_LOGS:
        return gettext("no practice logged for 5 days")
    if flag == adherence.OFTEN_HARD:
        titles = ", ".join(overview.hard_activities) if overview else ""
        if titles:
            return gettext('"hard" on 3 of the last 5 sessions: %(titles)s', titles=titles)
        return gettext('"hard" on 3 of the last 5 sessions of an activity')
    return flag


def _caseloads(session: Session) -> dict[int, tuple[User, list[Child]]]:
    """Each active therapist with the children they are on the care team of, as staff."""
    rows = session.execute(
        select(User, Child)
        .join(CareTeamMember, CareTeamMember.user_id == User.id)
        .join(Child, Child.id == CareTeamMember.child_id)
        .join(
            OrgMembership,
            and_(
                OrgMembership.user_id == User.id,
                OrgMembership.organization_id == Child.organization_id,
                OrgMembership.active,
            ),
        )
        .where(CareTeamMember.role == CareRole.THERAPIST, User.active)
        .order_by(User.id, Child.display_name, Child.id)
    ).all()
    caseloads: dict[int, tuple[User, list[Child]]] = {}
    for user, child in rows:
        caseloads.setdefault(user.id, (user, []))[1].append(child)
    return caseloads


def _percent(tally: adherence.Tally) -> str:
    if tally.rate is None:
        return gettext("no sessions planned")
    return gettext(
        "%(pct)d%% of planned sessions (%(done)d of %(expected)d)",
        pct=tally.percent or 0,
        done=tally.done,
        expected=tally.expected,
    )


def summary_text(
    children: Sequence[Child],
    week: dict[int, adherence.ChildAdherence],
    overviews: dict[int, adherence.Overview],
    week_start: date,
) -> tuple[str, str]:
    """Title and plain-text body of one therapist's weekly summary."""
    week_end = week_start + timedelta(days=6)
    title = gettext(
        "Weekly summary: %(start)s – %(end)s",
        start=format_when(week_start),
        end=format_when(week_end),
    )
    lines = [
        ngettext(
            "Last week (%(start)s to %(end)s), %(num)d child on your caseload:",
            "Last week (%(start)s to %(end)s), %(num)d children on your caseload:",
            len(children),
            start=format_when(week_start),
            end=format_when(week_end),
        ),
        "",
    ]
    flagged = 0
    for child in children:
        if child.id not in week:  # its figures failed (logged by the job): said, not hidden
            lines.append(f"{child.display_name}: {gettext('figures unavailable')}")
            continue
        lines.append(f"{child.display_name}: {_percent(week[child.id].total)}")
        overview = overviews.get(child.id)
        if overview is not None and overview.flags:
            flagged += 1
            for flag in overview.flags:
                lines.append("  - " + flag_text(flag, overview))
    lines += [
        "",
        ngettext("%(num)d child needs attention.", "%(num)d children need attention.", flagged)
        if flagged
        else gettext("No flags this week."),
    ]
    return title, "\n".join(lines)


@dataclass
class _Outgoing:
    message_id: int
    user_id: int
    email: str
    title: str
    body: str
    push: push.PushMessage


def _deliver(
    transaction: Transaction,
    sender: Sender | None,
    smtp: email_service.SmtpSettings | None,
    outgoing: list[_Outgoing],
    subscriptions: dict[int, list[dict[str, Any]]],
) -> None:
    """Push to each recipient's devices and email them; note what went out on the message."""
    jobs = [
        push.PushJob(subscription=sub, message=item.push, key=item.message_id)
        for item in outgoing
        for sub in subscriptions.get(item.user_id, [])
    ]
    results = sender.send_many(jobs) if sender is not None and jobs else []
    pushed = {job.key for job, result in results if result.ok}
    emailed = set()
    if smtp is not None:
        for item in outgoing:
            try:
                email_service.send(smtp, item.email, item.title, item.body)
            except (smtplib.SMTPException, OSError) as exc:
                log.warning("summary email to user %s failed: %r", item.user_id, exc)
            except Exception as exc:  # a bad address or header: this recipient only
                jobs.skipped("summary email", f"user {item.user_id}", exc)
            else:
                emailed.add(item.message_id)
    now = utcnow()
    with transaction() as session:
        for ids, column in ((pushed, "pushed_at"), (emailed, "emailed_at")):
            if ids:
                session.execute(
                    update(InboxMessage)
                    .where(InboxMessage.id.in_(sorted(ids)))
                    .values({column: now})
                )
        push.record_results(session, (r for _, r in results), now)


def _figures(
    session: Session, children: Sequence[Child], now: datetime, week_start: date | None = None
) -> tuple[dict[int, adherence.ChildAdherence], dict[int, adherence.Overview]]:
    """Each child's figures, computed together; a child whose figures fail is logged with
    its id and left out (its therapists still hear about the others)."""

    def compute(
        kids: Sequence[Child],
    ) -> dict[int, tuple[adherence.ChildAdherence | None, adherence.Overview]]:
        week = (
            adherence.adherence_for(
                session, [c.id for c in kids], week_start, week_start + timedelta(days=6)
            )
            if week_start is not None
            else {}
        )
        overviews = adherence.caseload_overview(session, kids, now)
        return {c.id: (week.get(c.id), overviews[c.id]) for c in kids}

    figures, _ = jobs.batch_or_each(
        children,
        compute,
        job=ALERT_JOB if week_start is None else SUMMARY_JOB,
        label=lambda child: f"child {child.id}",
        session=session,
    )
    weeks = {cid: week for cid, (week, _) in figures.items() if week is not None}
    return weeks, {cid: overview for cid, (_, overview) in figures.items()}


def _summary_for(
    session: Session, user: User, children: list[Child], start: date, now: datetime
) -> tuple[str, str]:
    """The summary in the therapist's language."""
    week, overviews = _figures(session, children, now, start)
    with force_locale(user.locale):
        return summary_text(children, week, overviews, start)


def run_weekly_summaries(
    transaction: Transaction,
    sender: Sender | None,
    smtp: email_service.SmtpSettings | None,
    now: datetime,
) -> int:
    """Monday from 07:00 in each therapist's time zone: last week's summary, once."""
    with transaction() as session:
        due = [
            (user, children, local.date() - timedelta(days=7))
            for (user, children), local in jobs.each(
                _caseloads(session).values(),
                lambda caseload: now.astimezone(ZoneInfo(caseload[0].timezone)),
                job=SUMMARY_JOB,
                label=lambda caseload: f"therapist {caseload[0].id}",
            )
            if local.weekday() == 0 and local.time() >= SUMMARY_TIME
        ]
        keys = {user.id: f"summary:{iso_week(start)}" for user, _, start in due}
        taken = {
            tuple(row)
            for row in session.execute(
                select(InboxMessage.user_id, InboxMessage.dedupe_key).where(
                    InboxMessage.user_id.in_(list(keys)),
                    InboxMessage.dedupe_key.in_(set(keys.values())),
                )
            )
        }
        due = [d for d in due if (d[0].id, keys[d[0].id]) not in taken]
        texts = {
            user.id: (user, *text)
            for (user, _, _), text in jobs.each(
                due,
                lambda item: _summary_for(session, item[0], item[1], item[2], now),
                job=SUMMARY_JOB,
                label=lambda item: f"therapist {item[0].id}",
                session=session,
            )
        }
        rows = [
            {
                "user_id": user_id,
                "child_id": None,
                "kind": "summary",
                "dedupe_key": keys[user_id],
                "title": title,
                "body": body,
                "created_at": now,
            }
            for user_id, (_, title, body) in texts.items()
        ]
        won = claims.claim(session, InboxMessage, rows, ("user_id", "dedupe_key"))
        outgoing = []
        for message_id, user_id, key in won:
            user, title, body = texts[user_id]
            with force_locale(user.locale):
                ready, open_it = (
                    gettext("Your weekly summary is ready"),
                    gettext("Open your inbox to read it."),
                )
            outgoing.append(
                _Outgoing(
                    message_id,
                    user_id,
                    user.email,
                    title,
                    body,
                    push.PushMessage(
                        title=ready,
                        body=open_it,
                        url=f"{INBOX_PATH}/{message_id}",
                        ttl=SUMMARY_TTL_SECONDS,
                        urgency="low",
                        topic=key.replace(":", "-"),
                    ),
                )
            )
        subscriptions = push.subscriptions_by_user(session, [o.user_id for o in outgoing])
    if outgoing:
        _deliver(transaction, sender, smtp, outgoing, subscriptions)
    return len(outgoing)


def run_alerts(transaction: Transaction, sender: Sender | None, now: datetime) -> int:
    """An alert to the child's therapists when a flag appears: once per child, flag, week."""
    with transaction() as session:
        caseloads = _caseloads(session)
        therapists: dict[int, list[User]] = defaultdict(list)
        children: dict[int, Child] = {}
        for user, kids in caseloads.values():
            for child in kids:
                therapists[child.id].append(user)
                children[child.id] = child
        _, overviews = _figures(session, list(children.values()), now)
        rows = [
            {
                "child_id": child_id,
                "flag": flag,
                "iso_week": iso_week(overview.today),
                "created_at": now,
            }
            for child_id, overview in overviews.items()
            for flag in overview.flags
        ]
        won = claims.claim(session, AdherenceAlert, rows, ("child_id", "flag", "iso_week"))
        messages = []
        for _, child_id, flag, week in won:
            child, overview = children[child_id], overviews[child_id]
            for user in therapists[child_id]:
                with force_locale(user.locale):  # each therapist reads it in their language
                    title = gettext("%(name)s may need attention", name=child.display_name)
                    body = gettext(
                        "%(name)s: %(flag)s. Consider adapting the home program with the family.",
                        name=child.display_name,
                        flag=flag_text(flag, overview),
                    )
                message = InboxMessage(
                    user_id=user.id,
                    child_id=child_id,
                    kind="alert",
                    dedupe_key=f"alert:{child_id}:{flag}:{week}"[:64],
                    title=title,
                    body=body,
                    created_at=now,
                )
                session.add(message)
                messages.append((message, user))
        session.flush()
        outgoing = [
            _Outgoing(
                message.id,
                user.id,
                user.email,
                message.title,
                message.body,
                _alert_push(message.id, user.locale),
            )
            for message, user in messages
        ]
        subscriptions = push.subscriptions_by_user(session, [o.user_id for o in outgoing])
    if outgoing:
        # Alerts go to the inbox and to devices; email is kept for the weekly summary.
        _deliver(transaction, sender, None, outgoing, subscriptions)
    return len(won)


def _alert_push(message_id: int, language: str) -> push.PushMessage:
    with force_locale(language):
        return push.PushMessage(
            title=gettext("New caseload alert"),
            body=gettext("A child on your caseload may need attention."),
            url=f"{INBOX_PATH}/{message_id}",
            ttl=ALERT_TTL_SECONDS,
            urgency="normal",
            topic=f"alert-{message_id}",
        )


def run(
    transaction: Transaction, sender: Sender | None, config: dict[str, Any], now: datetime
) -> None:
    """The scheduler's entry point: summaries every tick (cheap when none is due), alerts
    every ``ALERT_EVERY_MINUTES`` (they compute every caseload's flags)."""
    try:
        smtp = email_service.SmtpSettings.from_config(config)
        run_weekly_summaries(transaction, sender, smtp, now)
    except Exception:  # the alerts do not wait for a summary run that failed as a whole
        log.exception("weekly summaries failed")
    if now.minute % ALERT_EVERY_MINUTES == 0:
        run_alerts(transaction, sender, now)
