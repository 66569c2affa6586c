"""What ``bench/load.py`` checks after each phase, beside the speed (issue 24).

- Nothing lost, nothing doubled: the rows the phase wrote are exactly the logs answered
  201, each once, under the id the answer gave; the repeated posts wrote nothing.
- Pages answered with their content, not a login page or an error.
- The API limiter ran: the callers it counted in its storage (Redis) during the phase.

The load generator's own tally (bench/locustfile.py) counts from the first request, where
locust's statistics start once every user has signed in.
"""

import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from limits import parse
from limits.storage import storage_from_string
from sqlalchemy import create_engine, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's app

from homeprogram.models import CompletionLog


@dataclass
class Tally:
    """What the load generator was answered (written by bench/locustfile.py)."""

    created: dict[str, int]  # client_id answered 201 -> the log id in the answer
    doubtful: set[str]  # sent without a clear answer (error, timeout, run stopped)
    repeats: dict[str, int]  # posts sent again: "answered" 200, with the "same log"
    pages: dict[str, int]  # pages "loaded", and of them "without content"

    @classmethod
    def read(cls, path: Path) -> "Tally":
        """The tally, or an empty one if the load generator wrote none (it failed)."""
        if not path.exists():
            return cls(
                {}, set(), {"answered": 0, "same log": 0}, {"loaded": 0, "without content": 0}
            )
        data = json.loads(path.read_text())
        return cls(data["created"], set(data["doubtful"]), data["repeats"], data["pages"])


def newest_log_id(url: str) -> int:
    """The highest completion log id: the rows a phase writes come after it."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.coalesce(func.max(CompletionLog.id), 0))) or 0
    finally:
        engine.dispose()


def logs_after(url: str, after_id: int) -> list[tuple[int, str]]:
    """(id, client_id) of every log written after ``after_id``, undone ones included."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(CompletionLog.id, CompletionLog.client_id).where(CompletionLog.id > after_id)
            )
            return [(log_id, client_id) for log_id, client_id in rows]
    finally:
        engine.dispose()


def compare_rows(label: str, tally: Tally, written: list[tuple[int, str]]) -> tuple[bool, str]:
    """Whether the rows written match the 201 answers, and a line saying how."""
    stored = Counter(client_id for _, client_id in written)
    id_of = {client_id: log_id for log_id, client_id in written}
    doubled = sum(count - 1 for count in stored.values())
    lost = [cid for cid in tally.created if cid not in stored]
    other_id = [cid for cid, log_id in tally.created.items() if id_of.get(cid, log_id) != log_id]
    unanswered = [cid for cid in stored if cid not in tally.created]
    in_doubt = [cid for cid in unanswered if cid in tally.doubtful]
    unexplained = len(unanswered) - len(in_doubt)
    ok = not lost and not doubled and not other_id and not unexplained
    ok = ok and tally.repeats["answered"] == tally.repeats["same log"]
    line = (
        f"{label}: {len(tally.created)} logs answered 201, {len(written)} rows written; "
        f"{tally.repeats['answered']} repeats answered 200 "
        f"({tally.repeats['same log']} with the log first stored); "
        f"lost {len(lost)}, doubled {doubled}, other id {len(other_id)}, "
        f"written without a 201 {len(unanswered)} (of which in doubt, the answer lost to an "
        f"error or the end of the run: {len(in_doubt)})"
    )
    return ok, line


def check_pages(label: str, tally: Tally) -> tuple[bool, str]:
    loaded, bad = tally.pages["loaded"], tally.pages["without content"]
    return bad == 0, (
        f"{label}: {loaded} pages loaded, {bad} without their content "
        "(a login page, an error, or the child missing)"
    )


class LimiterCount:
    """The callers the API limiter counts in its storage, with the benchmark's budget."""

    def __init__(self, storage_url: str, budget: str) -> None:
        self.redis = None
        if storage_url.startswith(("redis://", "rediss://")):
            import redis

            self.redis = redis.Redis.from_url(storage_url)
        # The key of each caller's count (limits: "LIMITS:LIMITER/api/<caller>/<budget>").
        self.pattern = "*" + parse(budget).key_for("api", "*")

    def callers(self) -> set[bytes] | None:
        """The callers counted now; None when the storage is not one we can read (memory)."""
        if self.redis is None:
            return None
        return set(self.redis.scan_iter(match=self.pattern, count=1000))


def storage_answers(storage_url: str) -> bool:
    return storage_from_string(storage_url).check()
