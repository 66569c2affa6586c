"""Benchmark: the scheduler's reminder dispatch against a bare loop of pywebpush calls.

    PYTHONPATH=. python bench/push_dispatch.py [--n 5000] [--workers 16] [--database-url URL]

Builds a fresh database (a temporary SQLite file unless ``--database-url`` names an empty
one) with N caregivers whose 17:00 reminder is due, each with one device on the local
push service (``tests/push_service.py``, run in its own process so the server does not
compete with the sender for the GIL; it checks every VAPID JWT and decrypts every body).

1. bare loop: one ``pywebpush.webpush()`` call after another for the same N messages
   (fresh claims per call, the loaded VAPID key and one kept-alive HTTP session: the best
   case for a loop);
2. dispatch: ``services.reminders.run_due_reminders`` as the minute job runs it
   (select due, claim the rows, send through the bounded thread pool, record outcomes);
3. a second dispatch run at the same minute, which must claim nothing.

Prints both throughputs and their ratio, then verifies exactly-once: every device got
exactly one reminder from the dispatch, and every delivery row is "sent".
"""

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CONTACT = "mailto:ops@sunrise-therapy.org"
TZ = "America/New_York"


def _serve(n: int, queue: "multiprocessing.Queue", stop: "multiprocessing.synchronize.Event"):
    from tests.push_service import LocalPushService

    with LocalPushService() as service:
        queue.put((service.base_url, [service.device().subscription() for _ in range(n)]))
        stop.wait()


def _stats(base_url: str) -> dict:
    with urllib.request.urlopen(base_url + "/_stats", timeout=30) as response:
        return json.load(response)


def _seed(session, subscriptions: list[dict]) -> None:
    from sqlalchemy import insert, select

    from homeprogram.models import (
        Activity,
        Assignment,
        CareTeamMember,
        Child,
        Organization,
        PushSubscription,
        ReminderPlan,
        User,
    )
    from homeprogram.models.base import utcnow

    now = utcnow()
    n = len(subscriptions)
    org = Organization(name="Bench clinic", timezone=TZ)
    activity = Activity(slug="bench", title="Bench activity", focus_area="fine_motor")
    session.add_all([org, activity])
    session.flush()
    session.execute(
        insert(User),
        [
            dict(
                email=f"parent{i}@bench.invalid",
                name=f"Parent {i}",
                password_hash="x",
                timezone=TZ,
                locale="en",
                active=True,
                created_at=now,
            )
            for i in range(n)
        ],
    )
    users = session.scalars(select(User.id).order_by(User.id)).all()
    session.execute(
        insert(Child),
        [
            dict(
                organization_id=org.id,
                display_name=f"Kid{i}",
                birth_year=2019,
                birth_month=3,
                timezone=TZ,
                created_at=now,
            )
            for i in range(n)
        ],
    )
    children = session.scalars(select(Child.id).order_by(Child.id)).all()
    pairs = list(zip(users, children, strict=True))
    session.execute(
        insert(CareTeamMember),
        [dict(child_id=c, user_id=u, role="caregiver", created_at=now) for u, c in pairs],
    )
    session.execute(
        insert(Assignment),
        [
            dict(
                child_id=c,
                activity_id=activity.id,
                start_date=date(2026, 1, 1),
                days_of_week=[0, 1, 2, 3, 4, 5, 6],
                times_per_day=1,
                setting="home",
                dose_unit="minutes",
                dose_text="",
                minutes_per_session=5,
                anchor="",
                caregiver_note="",
                created_at=now,
            )
            for _, c in pairs
        ],
    )
    session.execute(
        insert(ReminderPlan),
        [
            dict(
                user_id=u,
                child_id=c,
                times=["17:00"],
                days_of_week=[0, 1, 2, 3, 4, 5, 6],
                morning_nudge=False,
                enabled=True,
                created_at=now,
                updated_at=now,
            )
            for u, c in pairs
        ],
    )
    session.execute(
        insert(PushSubscription),
        [
            dict(
                user_id=u,
                endpoint=s["endpoint"],
                p256dh=s["keys"]["p256dh"],
                auth=s["keys"]["auth"],
                device_name="Bench phone",
                created_at=now,
            )
            for (u, _), s in zip(pairs, subscriptions, strict=True)
        ],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="due reminders (default 5000)")
    parser.add_argument("--workers", type=int, default=16, help="dispatch threads (default 16)")
    parser.add_argument("--database-url", help="an empty database (default: temporary SQLite)")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="hp-bench-push-")
    os.environ["HOMEPROGRAM_INSTANCE_PATH"] = str(Path(tmp.name) / "instance")
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"

    from pywebpush import webpush
    from requests import Session as HttpSession
    from sqlalchemy import func, select

    from homeprogram import create_app, push_config
    from homeprogram.extensions import db
    from homeprogram.migrations_runner import upgrade
    from homeprogram.models import ReminderDelivery
    from homeprogram.services import reminders

    ctx = multiprocessing.get_context("spawn")
    queue, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve, args=(args.n, queue, stop), daemon=True)
    server.start()
    base_url, subscriptions = queue.get(timeout=600)

    try:
        upgrade(url)
        app = create_app(
            {"DATABASE_URL": url, "VAPID_CONTACT": CONTACT, "PUSH_WORKERS": args.workers}
        )
        with app.app_context():
            with db.transaction() as s:
                _seed(s, subscriptions)
            sender = push_config.sender(app)
            now = datetime(2026, 11, 27, 17, 5, tzinfo=ZoneInfo(TZ)).astimezone(UTC)
            with db.transaction() as s:
                due = reminders.find_due(s, now)
            assert len(due) == args.n, f"expected {args.n} due reminders, found {len(due)}"
            messages = [d.message(now) for d in due]
            endpoint_of = {sub["endpoint"]: sub for sub in subscriptions}
            by_user = {}
            with db.transaction() as s:
                from homeprogram.services import push

                by_user = push.subscriptions_by_user(s, [d.user_id for d in due])

            # 1. bare loop
            http = HttpSession()
            start = time.perf_counter()
            for reminder, message in zip(due, messages, strict=True):
                [sub] = by_user[reminder.user_id]
                webpush(
                    subscription_info=endpoint_of[sub["endpoint"]],
                    data=message.payload(),
                    vapid_private_key=sender.keys.vapid,
                    vapid_claims={"sub": CONTACT},
                    ttl=message.ttl,
                    headers=message.headers(),
                    timeout=10,
                    requests_session=http,
                )
            loop_seconds = time.perf_counter() - start
            after_loop = _stats(base_url)

            # 2. the scheduler's dispatch (select, claim, send concurrently, record)
            start = time.perf_counter()
            run = reminders.run_due_reminders(db.transaction, sender, now)
            dispatch_seconds = time.perf_counter() - start
            # 3. the next minute's run must find nothing left to claim
            rerun = reminders.run_due_reminders(db.transaction, sender, now)
            after = _stats(base_url)
            with db.transaction() as s:
                statuses = dict(
                    s.execute(
                        select(ReminderDelivery.status, func.count()).group_by(
                            ReminderDelivery.status
                        )
                    ).all()
                )
        db.engine.dispose()
    finally:
        stop.set()
        server.join(10)
        tmp.cleanup()

    n = args.n
    loop_rate, dispatch_rate = n / loop_seconds, n / dispatch_seconds
    print(f"database: {url.split(':', 1)[0]}   reminders: {n}   dispatch workers: {args.workers}")
    print(f"bare pywebpush loop : {loop_seconds:8.2f} s  {loop_rate:8.1f} sends/s")
    print(
        f"scheduler dispatch  : {dispatch_seconds:8.2f} s  {dispatch_rate:8.1f} reminders/s"
        "  (select + claim + send + record)"
    )
    print(f"ratio dispatch/loop : {dispatch_rate / loop_rate:8.2f}x")

    per_device_loop = set(after_loop["received"].values())
    per_device = {path: count - 1 for path, count in after["received"].items()}
    once = (
        per_device_loop == {1}
        and len(per_device) == n
        and set(per_device.values()) == {1}
        and run.claimed == run.sent == n
        and rerun.claimed == 0
        and statuses == {"sent": n}
        and after["rejected"] == 0
    )
    print(
        f"exactly once        : {'OK' if once else 'FAILED'}  (dispatch sent {run.sent}, "
        f"second run claimed {rerun.claimed}, delivery rows {statuses}, "
        f"rejected by the push service {after['rejected']})"
    )
    return 0 if once else 1


if __name__ == "__main__":
    sys.exit(main())
