"""Benchmark: the scheduler's reminder dispatch against bare loops of pywebpush calls.

    PYTHONPATH=. python bench/push_dispatch.py [--n 5000] [--workers 16] [--database-url URL]

Builds a fresh database (a temporary SQLite file unless ``--database-url`` names an empty
one) with N caregivers whose 17:00 reminder is due, each with one device on the local
push service (``tests/push_service.py``, run in its own process so the server does not
compete with the sender for the GIL; it checks every VAPID JWT and decrypts every body).

Like is compared with like: the same N messages are sent

1. by a bare loop of ``pywebpush.webpush()`` calls, one after another (fresh claims per
   call, the loaded VAPID key, one kept-alive HTTP session: the best case for a loop);
2. by ``services.reminders.run_due_reminders`` as the minute job runs it (select due,
   claim the rows, send, record outcomes) with one sending thread;
3. by the bare loop spread over ``--workers`` threads (one HTTP session per thread, as the
   sender keeps them);
4. by the dispatch with ``--workers`` sending threads, as configured in production;
5. by a second dispatch at the same minute, which must claim nothing.

The dispatch/loop ratio at the same concurrency (2 against 1, 4 against 3) is what the
code costs: selecting, claiming and recording. The end-to-end figure (4 against 1) is
what a deployment gains over the naive loop, thread pool included. The delivery rows of
run 2 are deleted before run 4, so that the same reminders are due again.

Then it verifies exactly-once: in every run each device got exactly one push, the second
dispatch claimed nothing, and every delivery row is "sent". The push service process is
stopped on every way out (``bench/shutdown.py``), and stops by itself if this process dies.
"""

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from queue import Empty
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import shutdown  # bench/shutdown.py, beside this file

CONTACT = "mailto:ops@sunrise-therapy.org"
TZ = "America/New_York"


def _serve(n: int, queue: Any, stop: Any, parent: int) -> None:
    from tests.push_service import LocalPushService

    with LocalPushService() as service:
        queue.put((service.base_url, [service.device().subscription() for _ in range(n)]))
        # Until told to stop, or until the benchmark is gone (killed before it could say).
        while not stop.wait(1):
            if os.getppid() != parent:
                return


@contextmanager
def push_service(n: int) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The local push service in a process of its own, with ``n`` devices; stopped after."""
    ctx = multiprocessing.get_context("spawn")
    queue, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve, args=(n, queue, stop, os.getpid()), daemon=True)
    try:
        server.start()
        while True:
            try:
                ready = queue.get(timeout=1)
                break
            except Empty:
                if not server.is_alive():
                    raise RuntimeError("the push service ended before it was ready") from None
        yield ready
    finally:
        stop.set()
        if server.pid is not None:  # started
            server.join(10)
        if server.is_alive():
            server.terminate()
            server.join(10)
        if server.is_alive():
            server.kill()
            server.join()
        queue.close()


def _stats(base_url: str) -> dict:
    with urllib.request.urlopen(base_url + "/_stats", timeout=30) as response:
        return json.load(response)


def _received(base_url: str) -> Counter[str]:
    return Counter(_stats(base_url)["received"])


def _once_each(before: Counter[str], after: Counter[str], n: int) -> bool:
    """Whether every one of the ``n`` devices got exactly one more push."""
    added = after - before
    return len(added) == n and set(added.values()) == {1}


def bare_loop(sends: Sequence[dict[str, Any]], send: Callable[..., Any], threads: int) -> float:
    """Seconds to send every push with ``threads`` threads, one HTTP session per thread."""
    from requests import Session as HttpSession

    local = threading.local()

    def one(kwargs: dict[str, Any]) -> None:
        http = getattr(local, "http", None)
        if http is None:
            http = local.http = HttpSession()
        send(**kwargs, requests_session=http)

    start = time.perf_counter()
    if threads <= 1:
        for kwargs in sends:
            one(kwargs)
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(one, sends))
    return time.perf_counter() - start


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
    shutdown.exit_on_terminate()  # a TERM stops the push service too

    with tempfile.TemporaryDirectory(prefix="hp-bench-push-") as tmp:
        os.environ["HOMEPROGRAM_INSTANCE_PATH"] = str(Path(tmp) / "instance")
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        with push_service(args.n) as (base_url, subscriptions):
            figures = measure(args, url, base_url, subscriptions)
    return report(args, url, figures)


def measure(
    args: argparse.Namespace, url: str, base_url: str, subscriptions: list[dict[str, Any]]
) -> dict[str, Any]:
    from pywebpush import webpush
    from sqlalchemy import delete, func, select

    from homeprogram import create_app, push_config
    from homeprogram.extensions import db
    from homeprogram.migrations_runner import upgrade
    from homeprogram.models import ReminderDelivery, ReminderPlanning
    from homeprogram.services import push, reminders

    n, workers = args.n, args.workers
    upgrade(url)
    app = create_app(
        {
            "DATABASE_URL": url,
            "VAPID_CONTACT": CONTACT,
            "PUSH_WORKERS": workers,
            "PUSH_ALLOW_INSECURE_ENDPOINTS": True,  # the local http push service
        }
    )
    figures: dict[str, Any] = {"once": {}}
    with app.app_context():
        with db.transaction() as s:
            _seed(s, subscriptions)
        sender = push_config.sender(app)
        one_thread = push.sender_from_config(
            push_config.keys(app), {**app.config, "PUSH_WORKERS": 1}
        )
        now = datetime(2026, 11, 27, 17, 5, tzinfo=ZoneInfo(TZ)).astimezone(UTC)
        with db.transaction() as s:
            due = reminders.find_due(s, now)
            assert len(due) == n, f"expected {n} due reminders, found {len(due)}"
            by_user = push.subscriptions_by_user(s, [d.user_id for d in due])
        endpoint_of = {sub["endpoint"]: sub for sub in subscriptions}
        sends = []
        for reminder in due:
            message = reminder.message(now)
            [sub] = by_user[reminder.user_id]
            sends.append(
                dict(
                    subscription_info=endpoint_of[sub["endpoint"]],
                    data=message.payload(),
                    vapid_private_key=sender.keys.vapid,
                    vapid_claims={"sub": CONTACT},  # webpush() writes into it: one per call
                    ttl=message.ttl,
                    headers=message.headers(),
                    timeout=10,
                )
            )

        def loop(threads: int) -> float:
            for kwargs in sends:
                kwargs["vapid_claims"] = {"sub": CONTACT}
            return bare_loop(sends, webpush, threads)

        def dispatch(with_sender: push.PushSender) -> float:
            start = time.perf_counter()
            run = reminders.run_due_reminders(db.transaction, with_sender, now)
            seconds = time.perf_counter() - start
            figures.setdefault("runs", []).append(run)
            return seconds

        def counted(name: str, step: Callable[[], float]) -> float:
            before = _received(base_url)
            seconds = step()
            figures["once"][name] = _once_each(before, _received(base_url), n)
            return seconds

        figures["loop 1"] = counted("loop, 1 thread", lambda: loop(1))
        figures["dispatch 1"] = counted("dispatch, 1 thread", lambda: dispatch(one_thread))
        with db.transaction() as s:  # the same reminders due again
            s.execute(delete(ReminderDelivery))
            s.execute(delete(ReminderPlanning))
        figures["loop n"] = counted(f"loop, {workers} threads", lambda: loop(workers))
        figures["dispatch n"] = counted(f"dispatch, {workers} threads", lambda: dispatch(sender))
        # The next minute's run must find nothing left to claim.
        before = _received(base_url)
        rerun = reminders.run_due_reminders(db.transaction, sender, now)
        figures["rerun claimed"] = rerun.claimed
        figures["rerun pushes"] = sum((_received(base_url) - before).values())
        with db.transaction() as s:
            figures["statuses"] = dict(
                s.execute(
                    select(ReminderDelivery.status, func.count()).group_by(ReminderDelivery.status)
                ).all()
            )
        figures["rejected"] = _stats(base_url)["rejected"]
    db.engine.dispose()
    return figures


def report(args: argparse.Namespace, url: str, figures: dict[str, Any]) -> int:
    n, workers = args.n, args.workers
    rate = {key: n / figures[key] for key in ("loop 1", "dispatch 1", "loop n", "dispatch n")}
    print(f"database: {url.split(':', 1)[0]}   reminders: {n}   dispatch workers: {workers}")
    print(f"{'sends per second':<22}{'1 thread':>12}{f'{workers} threads':>14}")
    print(f"{'bare pywebpush loop':<22}{rate['loop 1']:>12.1f}{rate['loop n']:>14.1f}")
    print(
        f"{'scheduler dispatch':<22}{rate['dispatch 1']:>12.1f}{rate['dispatch n']:>14.1f}"
        "  (select + claim + send + record)"
    )
    print(
        f"same concurrency    : dispatch/loop {rate['dispatch 1'] / rate['loop 1']:.2f}x with "
        f"1 thread, {rate['dispatch n'] / rate['loop n']:.2f}x with {workers} threads "
        "(what the code costs: select, claim, record)"
    )
    print(
        f"end to end          : dispatch with {workers} threads / sequential loop "
        f"{rate['dispatch n'] / rate['loop 1']:.2f}x (the thread pool included)"
    )
    runs = figures["runs"]
    once = (
        all(figures["once"].values())
        and all(run.claimed == run.sent == n for run in runs)
        and figures["rerun claimed"] == 0
        and figures["rerun pushes"] == 0
        and figures["statuses"] == {"sent": n}
        and figures["rejected"] == 0
    )
    each = ", ".join(f"{name} {'yes' if ok else 'NO'}" for name, ok in figures["once"].items())
    print(
        f"exactly once        : {'OK' if once else 'FAILED'}  (one push per device: {each}; "
        f"dispatch sent {' and '.join(str(run.sent) for run in runs)}, second run claimed "
        f"{figures['rerun claimed']}, delivery rows {figures['statuses']}, rejected by the "
        f"push service {figures['rejected']})"
    )
    return 0 if once else 1


if __name__ == "__main__":
    sys.exit(main())
