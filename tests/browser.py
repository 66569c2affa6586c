"""Real-browser testing: a live server, the system Chromium through Playwright, axe-core.

Playwright never downloads a browser here: it drives Debian's ``/usr/bin/chromium``, and
every test that needs it skips when that file is absent. The fixtures are made available
to all test modules by ``tests/conftest.py``.

- ``live_server``: the test's ``app`` served by a threaded WSGI server on a free loopback
  port (same database as the ``session`` / ``factory`` fixtures).
- ``browser``: one Chromium per test run; ``new_page(viewport)`` opens a fresh context
  (empty cache, no cookies) that is closed after the test. Its pages' clock (``Date``,
  timers) starts at the app's pinned "now".
- ``check_accessibility(page, label)``: runs the vendored axe-core with the WCAG 2.2 AA
  tags and fails with every violation spelled out.
- ``screenshot(page, name)``: a full-page PNG under ``artifacts/screenshots/`` (or
  ``$HOMEPROGRAM_SCREENSHOT_DIR``); the folder is printed at the end of the run.
"""

import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from homeprogram import clock as app_clock

CHROMIUM = Path(os.environ.get("HOMEPROGRAM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
PHONE = {"width": 360, "height": 740}
TABLET = {"width": 820, "height": 1180}

AXE_VERSION = "4.14.1"
AXE_PATH = Path(__file__).parent / "vendor" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
# target-size (WCAG 2.5.8) and other 2.1/2.2 rules run only when their tags are named.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

REPO_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT_DIR = Path(
    os.environ.get("HOMEPROGRAM_SCREENSHOT_DIR", REPO_ROOT / "artifacts" / "screenshots")
)
_screenshots_taken: list[Path] = []


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


def _closing_early(app: Flask) -> Callable[..., Any]:
    """Read each response into memory and close it before werkzeug starts writing.

    Werkzeug's development server skips the iterator's ``close()`` when the browser resets the
    connection (its clean-up read raises first), which leaves a static file open and fails the
    run with a ResourceWarning. Every response in these tests is small.
    """

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        iterable = app(environ, start_response)
        try:
            return [b"".join(iterable)]
        finally:
            if hasattr(iterable, "close"):
                iterable.close()

    return wsgi


class LiveServer:
    """A running server; ``url("/today")`` gives an absolute URL on it."""

    def __init__(self, app: Flask, server: BaseWSGIServer) -> None:
        self.app = app
        self.server = server
        self.origin = f"http://127.0.0.1:{server.server_port}"

    def url(self, path: str = "/") -> str:
        return self.origin + path


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = make_server(
        "127.0.0.1", 0, _closing_early(app), threaded=True, request_handler=_QuietHandler
    )
    # Links the app writes (invites) must point at this server, not the test host name.
    app.config["SERVER_NAME"] = f"127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, server)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    # CI machines are small and busy: give assertions room before calling a page broken.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Open a page in a fresh browser context: ``new_page(PHONE)`` or ``new_page(TABLET)``."""
    contexts: list[Any] = []

    def _open(viewport: dict[str, int] = PHONE, **context_options: Any) -> Any:
        context = browser.new_context(
            viewport=viewport, is_mobile=viewport["width"] < 600, **context_options
        )
        contexts.append(context)
        context.set_default_timeout(10_000)
        # The page's clock is the app's: a tap logged offline carries the pinned day.
        context.clock.install(time=app_clock.now())
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


def log_in(page: Any, server: LiveServer, email: str, password: str) -> None:
    """Log in through the login form, as a person would."""
    page.goto(server.url("/login"))
    # By field name, not label: the page may be in any language.
    form = page.locator("form", has=page.locator("input[name=password]"))
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "/login" not in page.url, f"login as {email} failed: still on {page.url}"


def check_accessibility(page: Any, label: str = "") -> None:
    """Fail unless axe-core finds zero WCAG 2.0/2.1/2.2 A and AA violations on the page."""
    # evaluate() goes through the DevTools protocol, so the page's CSP does not block it.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_PATH.read_text(encoding="utf-8"))
    violations = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {
                runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
            });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map((n) => ({
                    target: n.target.join(" "), summary: n.failureSummary,
                })),
            }));
        }""",
        AXE_TAGS,
    )
    assert not violations, format_violations(label or page.url, violations)


def format_violations(where: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"axe-core {AXE_VERSION}: {len(violations)} accessibility violation(s) on {where}"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}  {v['helpUrl']}")
        for node in v["nodes"][:10]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    at {node['target']}: {summary[:300]}")
        if len(v["nodes"]) > 10:
            lines.append(f"    … and {len(v['nodes']) - 10} more")
    return "\n".join(lines)


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as ``<name>.png``; the run prints the folder at the end."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    _screenshots_taken.append(path)
    return path


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _screenshots_taken:
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(f"{len(_screenshots_taken)} screenshots in {SCREENSHOT_DIR}")
