"""APScheduler, started only by the commands that should run jobs (never by create_app)."""

import logging
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from homeprogram import push_config
from homeprogram.extensions import db
from homeprogram.models.base import utcnow
from homeprogram.services import (
    adherence,
    housekeeping,
    media,
    media_storage,
    push,
    reminder_dispatch,
    reminders,
    summaries,
)
from homeprogram.services.vapid import PushConfigError

log = logging.getLogger(__name__)

# A busy executor turns a run into a misfire; a minute tick may start late, not be skipped.
TICK_GRACE_SECONDS = 50


def send_reminders(app: Flask) -> None:
    """Caregivers' reminders that are due now (or still useful after downtime)."""
    with app.app_context():
        try:
            sender = push_config.sender(app)
        except PushConfigError:
            return  # logged once; nothing is claimed, so nothing is lost while misconfigured
        # Logs what it claimed, sent and the delay from due time (p50, p95, max).
        reminders.run_due_reminders(
            db.transaction,
            sender,
            utcnow(),
            options=reminder_dispatch.DispatchOptions.from_config(app.config),
        )


def send_summaries(app: Flask) -> None:
    """Monday summaries for therapists, and new low-adherence alerts."""
    with app.app_context():
        try:
            sender: push.PushSender | None = push_config.sender(app)
        except PushConfigError:
            sender = None  # the inbox and email still work without push
        summaries.run(db.transaction, sender, app.config, utcnow())


# Jobs run every minute, each with its own transactions; later features add theirs here.
MINUTE_JOBS: list[Callable[[Flask], None]] = [send_reminders, send_summaries]


def _housekeeping(app: Flask) -> None:
    with app.app_context():
        with db.transaction() as s:
            housekeeping.end_idle_sessions(
                s,
                now=utcnow(),
                staff_minutes=app.config["STAFF_IDLE_TIMEOUT_MINUTES"],
                family_minutes=app.config["FAMILY_IDLE_TIMEOUT_MINUTES"],
            )
        # Clips hidden by a withdrawn consent, and files whose clip was deleted.
        media.sweep(db.transaction, media_storage.storage(app))


def process_media(app: Flask) -> None:
    """Transcode uploaded clips no web process took (MEDIA_WORKER=scheduler, or a restart)."""
    with app.app_context():
        media.process_waiting(db.transaction, media_storage.storage(app))


def fill_dashboard_cache(app: Flask) -> None:
    """Yesterday's figures for every child soon after their local midnight."""
    with app.app_context():
        adherence.fill_cache(db.transaction, utcnow())


def tick(app: Flask) -> None:
    for job in MINUTE_JOBS:
        try:
            job(app)
        except Exception:  # one failing job must not stop the others
            log.exception("scheduled job %s failed", getattr(job, "__name__", job))


def configure(scheduler: BaseScheduler, app: Flask) -> BaseScheduler:
    jobs: list[tuple[Callable[[Flask], None], str, str, int]] = [
        # (job, id, minutes of the hour, seconds it may start late)
        (tick, "minute-tick", "*", TICK_GRACE_SECONDS),
        (_housekeeping, "housekeeping", "*/15", 600),
        # Its own job: a long transcode must not hold up the minute tick's reminders.
        (process_media, "media", "*", TICK_GRACE_SECONDS),
        # Just after each quarter hour: time zones change day on those.
        (fill_dashboard_cache, "dashboard-cache", "2/15", 600),
    ]
    for job, job_id, minute, grace in jobs:
        scheduler.add_job(
            job,
            "cron",
            minute=minute,
            args=[app],
            id=job_id,
            misfire_grace_time=grace,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )
    return scheduler


def start_in_process(app: Flask) -> BaseScheduler:
    scheduler = configure(BackgroundScheduler(timezone="UTC", daemon=True), app)
    scheduler.start()
    return scheduler


def run_blocking(app: Flask) -> None:
    configure(BlockingScheduler(timezone="UTC"), app).start()
