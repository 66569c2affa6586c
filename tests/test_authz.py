"""Authorization, exhaustively: every route of the URL map, every kind of person.

Each endpoint has ONE entry in ``TABLE``: how to build its URL (and form data), which
methods it answers, and who the rightful users are. Everyone else is denied:

* a signed-in person who may not use the route gets **404** (pages, fragments and API
  alike: no existence leak);
* an anonymous visitor (and a deactivated user, whose sessions ended) is **redirected to
  log in** on pages; on ``/api/`` routes they get **401 application/problem+json** instead,
  since an API client cannot follow a login page;
* public routes (login, sign-up, invite and password links, health) answer everyone
  without a server error.

A route missing from the table, or answering methods the table does not list, fails the
test: a new route cannot ship unchecked.
"""

from typing import Any

import pytest
from flask import Flask

from tests.route_table import PUBLIC, TABLE
from tests.world import PERSONAS, build_world, deactivate, signed_in_client

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _routes(app: Flask) -> dict[str, set[str]]:
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        routes.setdefault(rule.endpoint, set()).update((rule.methods or set()) - IGNORED_METHODS)
    return routes


def test_every_route_is_in_the_table(app):
    """Every endpoint of the URL map has an entry listing exactly its methods."""
    routes = _routes(app)
    missing = sorted(set(routes) - set(TABLE))
    stale = sorted(set(TABLE) - set(routes))
    assert not missing, f"add these endpoints to TABLE in tests/test_authz.py: {missing}"
    assert not stale, f"endpoints in TABLE that no longer exist: {stale}"
    wrong = {
        e: (routes[e], set(TABLE[e].methods)) for e in routes if routes[e] != set(TABLE[e].methods)
    }
    assert not wrong, f"methods differ (route, table): {wrong}"


def _is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


def _call(client: Any, method: str, url: str, entry: Any, data: dict[str, Any]) -> Any:
    if method == "GET":
        response = client.get(url, headers=entry.headers)
    elif entry.json:
        response = client.open(url, method=method, json=data, headers=entry.headers)
    else:
        response = client.open(url, method=method, data=data, headers=entry.headers)
    response.get_data()
    response.close()  # file responses (pictures) hold the file open until closed
    return response


@pytest.mark.parametrize("endpoint", sorted(TABLE))
def test_route_allows_only_its_rightful_users(endpoint, app, factory, session):
    """Anonymous, other families, teachers, other organizations and deactivated users are
    denied (404, or a login redirect / 401 when anonymous); the rightful user succeeds."""
    if endpoint not in _routes(app):
        pytest.skip("endpoint not in this app")
    entry = TABLE[endpoint]
    world = build_world(factory, session, app)
    clients = {
        persona: signed_in_client(app, session, world.users[persona]) for persona in PERSONAS
    }
    deactivate(session, world)
    clients["anonymous"] = app.test_client()
    url_args = entry.args(world)
    with app.test_request_context():
        from flask import url_for

        url = url_for(endpoint, **url_args)
    is_api = url.startswith("/api/")
    public = entry.who == PUBLIC
    rightful = sorted(entry.who) if not public else ["anonymous"]
    # Denials first, the rightful user last (their request may change the world).
    if public:
        order = ["anonymous", *PERSONAS]
    else:
        order = [p for p in ("anonymous", *PERSONAS) if p not in rightful] + rightful[:1]
    for method in entry.methods:
        for persona in order:
            response = _call(clients[persona], method, url, entry, entry.data(world))
            status = response.status_code
            where = f"{method} {url} as {persona}: {status}"
            assert status < 500, where
            if public:
                if persona == "anonymous":
                    assert status in entry.ok, where
                continue
            if persona in rightful:
                assert status in entry.ok, where
                if status == 302 and not entry.to_login:
                    assert not _is_login_redirect(response), where
            elif persona in {"anonymous", "deactivated"}:
                if is_api:
                    assert status == 401, where
                    assert response.content_type == "application/problem+json", where
                else:
                    assert _is_login_redirect(response), where
            else:
                assert status == 404, where
