"""The README's screenshots, made from the demo data. Run: make screenshots

Starts ``homeprogram demo`` on a free loopback port, in a throwaway instance folder, with
the clock pinned (``HOMEPROGRAM_NOW``, a Wednesday evening in the demo's time zone by
default), signs in as the demo caregiver and the demo therapist with the system Chromium
(Playwright), and writes into docs/screenshots/:

- today.png and week.png: the caregiver's Today and Week on a 390 x 844 phone;
- dashboard.png and progress.png: the therapist's dashboard and a child's progress page
  at 1280 x 800.

Each PNG is reduced to a 256-colour palette (Pillow) to stay small. The server is stopped
on every way out.
"""

import argparse
import io
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
# Wednesday 25 November 2026, 17:30 in Chicago (the demo's time zone): after school, so
# Today shows some sessions done and some still to do.
DEFAULT_NOW = "2026-11-25T23:30:00Z"
CHROMIUM = Path(os.environ.get("HOMEPROGRAM_CHROMIUM", "/usr/bin/chromium"))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
CAREGIVER = ("parent.alvarez@demo.homeprogram.test", "demo-caregiver-2026")
THERAPIST = ("therapist@demo.homeprogram.test", "demo-therapist-2026")
# The demo child whose progress page is shown (the family that practises most).
PROGRESS_CHILD = "Sam"
STARTUP_SECONDS = 60


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Make the README's screenshots from demo data.")
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder (default {OUT})")
    parser.add_argument(
        "--now",
        default=DEFAULT_NOW,
        help=f"the demo's pinned instant, ISO 8601 with offset (default {DEFAULT_NOW})",
    )
    parser.add_argument("--chromium", type=Path, default=CHROMIUM, help="the browser to drive")
    parser.add_argument(
        "--scale", type=float, default=2, help="device pixel ratio of the captures (default 2)"
    )
    parser.add_argument("--colors", type=int, default=256, help="palette size of the PNGs")
    args = parser.parse_args(argv)
    from homeprogram.clock import parse_instant

    try:
        parse_instant(args.now)
    except ValueError as error:
        parser.error(str(error))
    return args


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"homeprogram demo exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our http://127.0.0.1 URL)
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise SystemExit(f"homeprogram demo did not answer at {url} in {STARTUP_SECONDS} s")


@contextmanager
def demo_server(now: str) -> Iterator[str]:
    """``homeprogram demo`` with a fresh database, pinned to ``now``; yields its base URL."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="homeprogram-screenshots-") as instance:
        env = {**os.environ, "HOMEPROGRAM_INSTANCE_PATH": instance, "HOMEPROGRAM_NOW": now}
        for name in ("HOMEPROGRAM_DATABASE_URL", "DATABASE_URL"):
            env.pop(name, None)
        command = [
            sys.executable,
            "-c",
            "from homeprogram.cli import main; main()",
            "demo",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        log = Path(instance) / "server.log"
        with log.open("wb") as output:
            server = subprocess.Popen(  # noqa: S603 (our own command line)
                command, env=env, stdout=output, stderr=subprocess.STDOUT
            )
            try:
                base = f"http://127.0.0.1:{port}"
                _wait_until_up(f"{base}/login", server)
                yield base
            except BaseException:
                sys.stderr.write(log.read_text(errors="replace")[-4000:])
                raise
            finally:
                server.terminate()
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()


def log_in(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    if "/login" in page.url:
        raise SystemExit(f"could not sign in as {email}")


def _first_link(page: Any, pattern: str) -> str:
    """The first href on the page matching ``pattern`` (a regular expression)."""
    for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
        if re.search(pattern, href):
            return href
    raise SystemExit(f"no link matching {pattern} on {page.url}")


def _tap_done(page: Any) -> None:
    """Log the second activity due, as a caregiver would, so Today shows both states: the
    first card still to do (its picture, its Done) above one just done."""
    done = page.locator("[data-done-button]")  # the Done buttons (tests and today.js use it)
    if not done.count():
        return
    with page.expect_response(lambda response: response.request.method == "POST"):
        done.nth(min(1, done.count() - 1)).click()
    page.wait_for_load_state("networkidle")
    page.mouse.move(0, 0)  # no hover or focus ring left on the button in the picture
    page.evaluate("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")


def save(page: Any, path: Path, colors: int) -> None:
    image = Image.open(io.BytesIO(page.screenshot(animations="disabled", caret="hide")))
    image = image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    image.save(path, optimize=True)
    print(
        f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
        f"{path.stat().st_size // 1024} KB"
    )


def capture(browser: Any, base: str, out: Path, now: str, scale: float, colors: int) -> None:
    from homeprogram.clock import parse_instant

    def context(viewport: dict[str, int]) -> Any:
        opened = browser.new_context(
            viewport=viewport,
            device_scale_factor=scale,
            is_mobile=viewport["width"] < 600,
            locale="en-US",
            timezone_id="America/Chicago",
            color_scheme="light",
            reduced_motion="reduce",
        )
        opened.set_default_timeout(15_000)
        # The page's clock is the server's: a tap carries the pinned day, as in the tests.
        opened.clock.install(time=parse_instant(now))
        return opened

    phone = context(PHONE)
    page = phone.new_page()
    log_in(page, base, *CAREGIVER)
    page.goto(f"{base}/today")
    _tap_done(page)
    save(page, out / "today.png", colors)
    page.goto(_first_link(page, r"/children/\d+/week$"))
    save(page, out / "week.png", colors)
    phone.close()

    desktop = context(DESKTOP)
    page = desktop.new_page()
    log_in(page, base, *THERAPIST)
    page.goto(f"{base}/dashboard")
    save(page, out / "dashboard.png", colors)
    named = page.get_by_role("link", name=PROGRESS_CHILD, exact=True)
    href = named.first.get_attribute("href") if named.count() else None
    child = re.search(r"/children/(\d+)", href or _first_link(page, r"/children/\d+"))
    assert child is not None
    page.goto(f"{base}/children/{child.group(1)}/progress")
    save(page, out / "progress.png", colors)
    desktop.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.chromium.exists():
        print(f"{args.chromium} is not installed (apt-get install chromium)", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with demo_server(args.now) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(args.chromium), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            capture(browser, base, args.out, args.now, args.scale, args.colors)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
