"""CPU time of the processes of a load run, read from Linux's /proc.

``bench/load.py`` samples the server (gunicorn and its workers), the database server
(PostgreSQL's processes; SQLite runs inside the workers) and the load generator (locust)
over the steady middle of a phase, then divides by the requests served in that window:
where each request's CPU goes on a machine where all three share the cores.
"""

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def available() -> bool:
    return (PROC / "self" / "stat").exists()


def _stat(pid: str) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of a process, None once it is gone."""
    try:
        text = (PROC / pid / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the name may hold spaces
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def _command(pid: str) -> str:
    try:
        return (PROC / pid / "cmdline").read_bytes().split(b"\0", 1)[0].decode(errors="replace")
    except OSError:
        return ""


def snapshot(roots: dict[str, int], postgres: bool) -> dict[str, float]:
    """CPU seconds so far per group: each root's process tree, and "database"."""
    stats = {pid: stat for pid in os.listdir(PROC) if pid.isdigit() and (stat := _stat(pid))}
    children: dict[int, list[int]] = {}
    for pid, (parent, _cpu) in stats.items():
        children.setdefault(parent, []).append(int(pid))
    totals: dict[str, float] = {}
    for group, root in roots.items():
        todo, total = [root], 0.0
        while todo:
            pid = todo.pop()
            total += stats[str(pid)][1] if str(pid) in stats else 0.0
            todo += children.get(pid, [])
        totals[group] = total
    if postgres:
        totals["database"] = sum(
            cpu for pid, (_parent, cpu) in stats.items() if _command(pid).startswith("postgres")
        )
    return totals


@dataclass
class Window:
    seconds: float
    cpu: dict[str, float]  # CPU seconds per group within the window


class Sampler:
    """Samples the groups at ``start`` and ``stop`` seconds after it is started."""

    def __init__(self, roots: dict[str, int], postgres: bool, start: float, stop: float):
        self.roots, self.postgres = roots, postgres
        self.start_after, self.stop_after = start, stop
        self.window: Window | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._thread.join()

    def _run(self) -> None:
        began = time.monotonic()
        time.sleep(self.start_after)
        first, t0 = snapshot(self.roots, self.postgres), time.monotonic()
        time.sleep(max(0.0, self.stop_after - (time.monotonic() - began)))
        last, t1 = snapshot(self.roots, self.postgres), time.monotonic()
        self.window = Window(t1 - t0, {g: last[g] - first.get(g, 0.0) for g in last})
