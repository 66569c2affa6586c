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

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(
    database_url: str, instance: Path, *, workers: int = 4, threads: int = 4, **env: str
) -> Iterator[str]:
    """Serve the app with several gunicorn workers; yields the base URL. Stopped after."""
    port = free_port()
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HOMEPROGRAM_DATABASE_URL": database_url,
        "HOMEPROGRAM_INSTANCE_PATH": str(instance),
        "HOMEPROGRAM_SECRET_KEY": "reliability-test-key",
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
                "--bind", f"127.0.0.1:{port}",
                "--timeout", "60",
                "--graceful-timeout", "5",
                "--preload",
                "homeprogram.wsgi:app",
            ],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
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
