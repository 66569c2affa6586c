"""Ending what a benchmark starts, on every way out (issue 25).

Servers and load generators are started as child processes and stopped in ``finally``
blocks. Ctrl+C reaches them anyway (the terminal signals the whole process group) and
raises KeyboardInterrupt here; a TERM sent to the benchmark alone (``kill``, a CI
timeout) would end Python at once, without those blocks, and leave the children running.
"""

import signal
import subprocess
from types import FrameType


def exit_on_terminate() -> None:
    """Make the first SIGTERM raise SystemExit, so that every ``finally`` block runs.

    Further TERMs are let pass while the children are being stopped: a second one must not
    interrupt the cleanup it is waiting for.
    """
    stopping = False

    def handler(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def stop(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """TERM the process, KILL it if it has not ended within ``timeout`` s, and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()
