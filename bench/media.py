"""Benchmark the media work of an upload: transcoding a therapist's clip, and the
serving process's memory while a large clip is uploaded.

    PYTHONPATH=$PWD python bench/media.py [--seconds 60] [--width 1920] [--height 1080]
                                          [--fps 30] [--bitrate 16M] [--upload-mb 200]

Generates a phone-like clip in a temporary directory (H.264 High at about the bitrate a
phone records 1080p at, moving test card with grain, AAC stereo sound; generation time is
not counted), transcodes it with ``homeprogram.services.video.transcode`` in this process,
and prints the wall and CPU seconds, the real-time factor (clip seconds / transcode wall
seconds) against the bar (at least ``REALTIME_BAR`` times faster than real time), and the
peak memory (RSS) the transcode added to the process.

Peak RSS is the kernel's high-water mark (``VmHWM`` in /proc/self/status), reset before
each measured step by writing 5 to /proc/self/clear_refs, so what generation used does not
hide what the transcode uses. Where the reset is refused, the growth is measured against
the high-water mark before the step (a lower bound).

The upload: one gunicorn sync worker serves the app (a seeded SQLite database, the
scheduler's job left to transcode, so only the upload is measured); a therapist signs in
and posts the clip form with a file of ``--upload-mb`` MB, streamed from disk by
http.client in 1 MB writes. The worker's peak RSS growth during the request (its VmHWM,
reset the same way through /proc/<pid>/clear_refs) is printed for a 1 MB upload first (the
baseline of the same run) and then for the large one, against the bar (``UPLOAD_BAR_MIB``).

The figures depend on the machine and on what else runs on it: the load average is printed
beside them.
"""

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from homeprogram.services import video  # noqa: E402
from tests.clips import Clip  # noqa: E402

REALTIME_BAR = 2.0  # the transcode must run at least this many times faster than real time
UPLOAD_BAR_MIB = 20.0  # a 200 MB upload may raise the serving worker's memory by less
STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def status_kib(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in KiB (0 if absent)."""
    for line in STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak() -> bool:
    """Start a new RSS high-water mark at the current RSS; False where Linux refuses."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def measure_memory(step: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    """Run ``step``; returns its result and the RSS before it and the peak during it, MiB."""
    exact = reset_peak()
    before = status_kib("VmRSS")
    hwm_before = status_kib("VmHWM")
    result = step()
    peak = status_kib("VmHWM")
    baseline = before if exact else hwm_before
    return result, {
        "rss_before_mib": before / 1024,
        "peak_rss_mib": peak / 1024,
        "peak_growth_mib": max(0, peak - baseline) / 1024,
        "peak_exact": exact,
    }


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def transcode_figures(
    folder: Path, seconds: float, width: int, height: int, fps: int, bitrate: str
) -> dict[str, Any]:
    """Generate the clip (not timed), transcode it (timed); returns the figures."""
    source = folder / "phone.mp4"
    t0 = time.perf_counter()
    Clip(
        seconds=seconds,
        width=width,
        height=height,
        fps=fps,
        pattern="busy",
        # What a phone writes: CABAC, a steady bitrate; superfast keeps generation short.
        encoder_options={"preset": "superfast", "b": bitrate, "maxrate": bitrate, "bufsize": "20M"},
    ).write(source)
    generated_in = time.perf_counter() - t0
    seen = video.probe(source)
    calls: list[float] = []

    def step() -> tuple[video.Transcoded, float, float]:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        out = video.transcode(source, folder / "out.mp4", folder / "poster.jpg", calls.append)
        return out, time.perf_counter() - wall0, time.process_time() - cpu0

    (result, wall, cpu), memory = measure_memory(step)
    return {
        "source": seen,
        "source_bytes": source.stat().st_size,
        "generated_in": generated_in,
        "result": result,
        "wall": wall,
        "cpu": cpu,
        "realtime_factor": seen.duration / wall,
        "bar_met": seen.duration / wall >= REALTIME_BAR,
        "progress_calls": len(calls),
        **memory,
    }


def print_transcode(figures: dict[str, Any]) -> None:
    seen: video.Probe = figures["source"]
    result: video.Transcoded = figures["result"]
    print(
        f"source: {seen.duration:.1f} s {seen.width}x{seen.height} {seen.codec}"
        f"{' + audio' if seen.has_audio else ''}, {figures['source_bytes'] / 1e6:.1f} MB "
        f"({figures['source_bytes'] * 8 / seen.duration / 1e6:.1f} Mbit/s; "
        f"generated in {figures['generated_in']:.1f} s, not counted)"
    )
    print(
        f"output: {result.duration:.1f} s {result.width}x{result.height} H.264 + AAC, "
        f"{result.size / 1e6:.1f} MB ({result.size * 8 / result.duration / 1e6:.2f} Mbit/s)"
    )
    print(
        f"transcode: {figures['wall']:.1f} s wall, {figures['cpu']:.1f} s CPU "
        f"({figures['cpu'] / figures['wall']:.2f} CPUs busy), "
        f"{figures['progress_calls']} progress calls"
    )
    verdict = "met" if figures["bar_met"] else "NOT met"
    print(
        f"real-time factor: {figures['realtime_factor']:.2f}x "
        f"(bar: at least {REALTIME_BAR:.0f}x faster than real time: {verdict})"
    )
    how = "reset before the step" if figures["peak_exact"] else "lower bound: reset refused"
    print(
        f"memory: RSS {figures['rss_before_mib']:.0f} MiB before, peak "
        f"{figures['peak_rss_mib']:.0f} MiB, growth {figures['peak_growth_mib']:.0f} MiB ({how})"
    )


# --- Upload: the serving worker's memory ----------------------------------------------------


def _proc_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _worker_of(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    if len(children) != 1:
        raise RuntimeError(f"expected one gunicorn worker, found {children}")
    return int(children[0])


def _seed_upload(url: str) -> tuple[int, int]:
    """The benchmark's clinic (bench/http_bench.py's seed); (child id, activity id)."""
    import sqlite3

    import http_bench  # bench/http_bench.py

    http_bench.seed(url)
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        child_id, activity_id = db.execute(
            "SELECT child_id, activity_id FROM assignment ORDER BY id LIMIT 1"
        ).fetchone()
    return child_id, activity_id


def _therapist_session(base: str, child_id: int) -> tuple[str, str]:
    """Sign the seeded therapist in; (cookie header, CSRF token of the child page)."""
    import re
    import urllib.parse
    import urllib.request
    from http.cookiejar import CookieJar

    import http_bench

    csrf = re.compile(r'name="csrf-token" content="([^"]+)"')
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login", timeout=30).read().decode()
    token = csrf.search(page)
    form = {
        "email": "therapist@bench.example.org",
        "password": http_bench.PASSWORD,
        "csrf_token": token.group(1) if token else "",
    }
    opener.open(base + "/login", urllib.parse.urlencode(form).encode(), timeout=30).read()
    child_page = opener.open(f"{base}/children/{child_id}", timeout=30).read().decode()
    found = csrf.search(child_page)
    if found is None or "Videos for the family" not in child_page:
        raise RuntimeError("the therapist's sign-in did not lead to the child page")
    return "; ".join(f"{c.name}={c.value}" for c in jar), found.group(1)


def _post_clip(
    base: str, cookie: str, csrf: str, child_id: int, activity_id: int, file: Path
) -> int:
    """POST the clip form with ``file`` streamed from disk; returns the HTTP status."""
    import http.client
    import urllib.parse

    boundary = "hp-bench-" + os.urandom(8).hex()
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="activity_id"\r\n\r\n'
        f"{activity_id}\r\n--{boundary}\r\nContent-Disposition: form-data; "
        f'name="video"; filename="{file.name}"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    netloc = urllib.parse.urlsplit(base).netloc
    connection = http.client.HTTPConnection(netloc, timeout=600)
    connection.putrequest("POST", f"/children/{child_id}/clips")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(head) + file.stat().st_size + len(tail)))
    connection.putheader("Cookie", cookie)
    connection.putheader("X-CSRFToken", csrf)
    connection.endheaders()
    connection.send(head)
    with file.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            connection.send(chunk)
    connection.send(tail)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status


def upload_figures(folder: Path, sizes_mb: list[int]) -> list[dict[str, Any]]:
    import load  # bench/load.py: gunicorn()

    database = f"sqlite:///{folder / 'media-bench.sqlite3'}"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HOMEPROGRAM_INSTANCE_PATH": str(folder / "instance"),
        "HOMEPROGRAM_DATABASE_URL": database,
        "HOMEPROGRAM_MEDIA_WORKER": "scheduler",  # the upload alone is measured
        "HOMEPROGRAM_MEDIA_QUOTA_MB": "100000",
        "HOMEPROGRAM_LOGIN_LIMIT_PER_IP": load.RELAXED_LOGIN_LIMIT,
        "HOMEPROGRAM_LOGIN_LIMIT_PER_ACCOUNT": load.RELAXED_LOGIN_LIMIT,
    }
    os.environ["HOMEPROGRAM_INSTANCE_PATH"] = env["HOMEPROGRAM_INSTANCE_PATH"]
    child_id, activity_id = _seed_upload(database)
    rows = []
    with load.gunicorn("homeprogram.wsgi:app", 1, env, folder / "app.log") as server:
        cookie, csrf = _therapist_session(server.url, child_id)
        worker = _worker_of(server.pid)
        for size in sizes_mb:
            file = folder / f"upload-{size}.mp4"
            block = os.urandom(1024 * 1024)
            with file.open("wb") as out:
                for _ in range(size):
                    out.write(block)
            before = _proc_kib(worker, "VmRSS")
            try:
                Path(f"/proc/{worker}/clear_refs").write_text("5")
                exact = True
            except OSError:
                exact = False
            started = time.perf_counter()
            status = _post_clip(server.url, cookie, csrf, child_id, activity_id, file)
            seconds = time.perf_counter() - started
            peak = _proc_kib(worker, "VmHWM")
            file.unlink()
            rows.append(
                {
                    "mb": size,
                    "status": status,
                    "seconds": seconds,
                    "rss_before_mib": before / 1024,
                    "growth_mib": max(0, peak - before) / 1024,
                    "exact": exact,
                }
            )
    # What the 302s claim: each upload is stored, whole, as a queued clip.
    import sqlite3

    with sqlite3.connect(database.removeprefix("sqlite:///")) as db:
        stored = [n for (n,) in db.execute("SELECT upload_bytes FROM media_clip ORDER BY id")]
    for row, size in zip(rows, stored + [0] * len(rows), strict=False):
        row["stored_bytes"] = size
    return rows


def print_upload(rows: list[dict[str, Any]]) -> bool:
    ok = True
    for row in rows:
        stored = row["status"] == 302 and row["stored_bytes"] == row["mb"] * 1024 * 1024
        ok &= stored
        print(
            f"upload {row['mb']:>4} MB: HTTP {row['status']}, {row['stored_bytes']} B stored"
            f"{'' if stored else ' (not stored whole!)'}"
            f" in {row['seconds']:.1f} s; worker RSS {row['rss_before_mib']:.0f} MiB before, "
            f"peak growth {row['growth_mib']:.1f} MiB"
            + ("" if row["exact"] else " (peak not reset: an upper bound)")
        )
    baseline, large = rows[0], rows[-1]
    met = large["growth_mib"] < UPLOAD_BAR_MIB
    print(
        f"{large['mb']} MB upload raised the worker's memory by {large['growth_mib']:.1f} MiB "
        f"({large['growth_mib'] - baseline['growth_mib']:+.1f} MiB against the "
        f"{baseline['mb']} MB baseline): bar < {UPLOAD_BAR_MIB:.0f} MiB "
        f"{'met' if met else 'NOT met'}"
    )
    return ok and met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--bitrate", default="16M", help="the source clip's video bitrate")
    parser.add_argument("--upload-mb", type=int, default=200, help="the large upload's size")
    args = parser.parse_args()

    print(f"load average before: {load_average()}")
    with tempfile.TemporaryDirectory(prefix="hp-bench-media-") as tmp:
        print("== transcoding a phone clip (services/video.py)")
        figures = transcode_figures(
            Path(tmp), args.seconds, args.width, args.height, args.fps, args.bitrate
        )
        print_transcode(figures)
    with tempfile.TemporaryDirectory(prefix="hp-bench-upload-") as tmp:
        print("== uploading a clip (one gunicorn worker, blueprints/media + upload_request)")
        ok = print_upload(upload_figures(Path(tmp), [1, args.upload_mb]))
    print(f"load average after: {load_average()}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
