"""Page weight budget: what a caregiver's phone downloads to open the today page."""

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser import PHONE, log_in
from tests.conftest import TEST_PASSWORD
from tests.real_day import real_day

pytestmark = pytest.mark.browser

# Encoded (compressed) response bodies as they cross the wire. Headers are printed but not
# counted: over HTTP/1.1 on loopback each response repeats ~0.7-1.3 KB of them, which
# HTTP/2's header compression (HPACK) behind a TLS proxy reduces to a few bytes.
TOTAL_BUDGET = 60 * 1024
HTML_BUDGET = 15 * 1024


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


# Each session listed costs ~330 B on Today (its Undo, which must work without JavaScript,
# and its details link): a done card keeps its sessions one tap away, so a busy day fits.
@pytest.mark.parametrize("logs_today", [3, 10])
def test_today_first_load_fits_the_page_weight_budget(
    live_server: Any, new_page: Any, factory: Any, session: Any, logs_today: int
) -> None:
    """A caregiver's first visit to today, with an empty cache, downloads at most 60 KB of
    compressed resources (the page itself at most 15 KB) and asks no other origin: with the
    four wordiest activities of the library and 3, or 10, sessions already logged today."""
    day = real_day(factory, session, activities=4, logs_today=logs_today)
    login_page = new_page(PHONE)
    log_in(login_page, live_server, day.caregiver.email, TEST_PASSWORD)
    cookies = login_page.context.storage_state()

    # A fresh context has an empty HTTP cache; only the session cookie carries over.
    page = new_page(PHONE, storage_state=cookies)
    requests: list[Any] = []
    page.context.on("request", lambda request: requests.append(request))
    response = page.goto(live_server.url("/today"), wait_until="networkidle")
    assert response is not None and response.ok
    assert urlsplit(page.url).path.endswith("today"), page.url
    assert page.locator("[data-card]").count() == 4
    # Every session is on the page: listed, or counted on a done card's "Your sessions".
    folded = page.locator(".log-list > summary").all_inner_texts()
    behind = sum(int(m.group()) if (m := re.search(r"\d+", t)) else 1 for t in folded)
    assert page.locator(".my-log").count() + behind == logs_today

    rows = _transfers(requests)
    report = "\n".join(
        f"  {body + headers:>7} B  ({body} body + {headers} headers)  {kind:<10} {url}"
        for url, kind, body, headers in rows
    )
    total = sum(body for _url, _kind, body, _headers in rows)
    headers = sum(h for *_rest, h in rows)
    print(
        f"\ntoday with {logs_today} sessions, first load: {total} B of bodies"
        f" (+ {headers} B of headers) in {len(rows)} responses\n{report}"
    )

    foreign = [url for url, *_ in rows if not url.startswith(live_server.origin + "/")]
    assert not foreign, f"requests to other origins: {foreign}"
    [html] = [body for url, kind, body, _h in rows if kind == "document"]
    assert html <= HTML_BUDGET, f"today's HTML is {html} B, budget {HTML_BUDGET} B\n{report}"
    assert total <= TOTAL_BUDGET, (
        f"today's first load is {total} B, budget {TOTAL_BUDGET} B\n{report}"
    )
