"""A real server process for the reliability tests: gunicorn on a free loopback port."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from homeprogram import clock

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def gunicorn(
    database_url: str, instance: Path, *, workers: int = 4, threads: int = 4, **env: str
) -> Iterator[str]:
    """Serve the app with several gunicorn workers; yields the base URL. Stopped after.

    The socket is bound here, on a port the system picks, and handed to gunicorn: no
    other process can take the port between choosing it and serving on it.
    """
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    listener.set_inheritable(True)
    port = listener.getsockname()[1]
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HOMEPROGRAM_DATABASE_URL": database_url,
        "HOMEPROGRAM_INSTANCE_PATH": str(instance),
        "HOMEPROGRAM_SECRET_KEY": "reliability-test-key",
        # The server process runs on the test's pinned clock.
        clock.ENVIRONMENT_VARIABLE: clock.now().isoformat(),
        **env,
    }
    log = instance / "gunicorn.log"
    instance.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn",
                "--workers", str(workers),
                "--threads", str(threads),
                "--worker-class", "gthread",
                "--bind", f"fd://{listener.fileno()}",
                "--timeout", "60",
                "--graceful-timeout", "5",
                "--preload",
                "homeprogram.wsgi:app",
            ],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            pass_fds=(listener.fileno(),),
        )  # fmt: skip
        listener.close()  # gunicorn holds its own copy
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    raise RuntimeError("gunicorn exited:\n" + log.read_text())
                try:
                    if requests.get(base + "/healthz", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start:\n" + log.read_text())
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
