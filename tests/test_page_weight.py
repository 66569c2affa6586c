"""Page weight budget: what a caregiver's phone downloads to open the today page."""

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from homeprogram.models.base import utcnow
from tests.browser import PHONE, log_in

pytestmark = pytest.mark.browser

# Encoded (compressed) response bodies as they cross the wire. Headers are printed but not
# counted: over HTTP/1.1 on loopback each response repeats ~0.7-1.3 KB of them, which
# HTTP/2's header compression (HPACK) behind a TLS proxy reduces to a few bytes.
TOTAL_BUDGET = 60 * 1024
HTML_BUDGET = 15 * 1024
ACTIVITIES = [
    ("Theraputty treasure hunt", "fine_motor", "5 minutes", 5),
    ("Sock-on race", "self_care", "3 tries", 3),
    ("Animal walks", "gross_motor", "5 minutes", 5),
    ("Calm-down breathing", "sensory", "5 breaths", 2),
]


def _family_with_a_program(factory: Any) -> str:
    org = factory.org()
    therapist = factory.therapist(org)
    child = factory.child(org, therapist=therapist)
    parent = factory.caregiver(child, email="parent@example.org")
    start = utcnow().date() - timedelta(days=3)
    for title, focus, dose, minutes in ACTIVITIES:
        activity = factory.activity(
            title=title,
            focus_area=focus,
            steps=["Show the child how.", "Do it together.", "Let the child try alone."],
            materials=["timer"],
            default_dose=dose,
            default_minutes=minutes,
        )
        factory.assignment(
            child,
            activity,
            start_date=start,
            dose_text=dose,
            minutes_per_session=minutes,
            anchor="after school",
            caregiver_note="Keep it playful; stop before it gets frustrating.",
        )
    return parent.email


def _transfers(requests: list[Any]) -> list[tuple[str, str, int, int]]:
    """(url, resource type, encoded body bytes, response header bytes) per finished request."""
    rows = []
    for request in requests:
        response = request.response()
        if response is None:
            continue
        response.finished()
        sizes = request.sizes()
        body = sizes["responseBodySize"]
        if body < 0:
            # Chromium does not report the wire size of a service worker's importScripts();
            # count the Content-Length or, failing that, the uncompressed body (an upper bound).
            length = response.headers.get("content-length")
            body = int(length) if length else len(response.body())
        rows.append((request.url, request.resource_type, body, sizes["responseHeadersSize"]))
    return rows


def test_today_first_load_fits_the_page_weight_budget(
    live_server: Any, new_page: Any, factory: Any
) -> None:
    """A caregiver's first visit to today, with an empty cache, downloads at most 60 KB of
    compressed resources (the page itself at most 15 KB) and asks no other origin."""
    email = _family_with_a_program(factory)
    login_page = new_page(PHONE)
    log_in(login_page, live_server, email, "correct horse battery staple")
    cookies = login_page.context.storage_state()

    # A fresh context has an empty HTTP cache; only the session cookie carries over.
    page = new_page(PHONE, storage_state=cookies)
    requests: list[Any] = []
    page.context.on("request", lambda request: requests.append(request))
    response = page.goto(live_server.url("/today"), wait_until="networkidle")
    assert response is not None and response.ok
    assert urlsplit(page.url).path.endswith("today"), page.url

    rows = _transfers(requests)
    report = "\n".join(
        f"  {body + headers:>7} B  ({body} body + {headers} headers)  {kind:<10} {url}"
        for url, kind, body, headers in rows
    )
    total = sum(body for _url, _kind, body, _headers in rows)
    headers = sum(h for *_rest, h in rows)
    print(
        f"\ntoday, first load: {total} B of bodies (+ {headers} B of headers) in"
        f" {len(rows)} responses\n{report}"
    )

    foreign = [url for url, *_ in rows if not url.startswith(live_server.origin + "/")]
    assert not foreign, f"requests to other origins: {foreign}"
    [html] = [body for url, kind, body, _h in rows if kind == "document"]
    assert html <= HTML_BUDGET, f"today's HTML is {html} B, budget {HTML_BUDGET} B\n{report}"
    assert total <= TOTAL_BUDGET, (
        f"today's first load is {total} B, budget {TOTAL_BUDGET} B\n{report}"
    )
