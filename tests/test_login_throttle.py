"""Failed sign-ins slow an account down but never lock its owner out (issue 15, §5a).

Failures are limited per (account, address) pair and per address; across addresses the
account only gets a growing delay, during which the password is not checked at all.
"""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from homeprogram.models import AuditEvent
from tests.factories import TEST_PASSWORD

ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


@pytest.fixture
def app_config():
    return {
        "LOGIN_LIMIT_PER_ACCOUNT": "5 per 15 minutes",
        "LOGIN_LIMIT_PER_IP": "30 per 15 minutes",
    }


def _client(app, address: str):
    client = app.test_client()
    client.environ_base = {**client.environ_base, "REMOTE_ADDR": address}
    return client


def _try(client, password: str, email: str = "therapist@example.org"):
    return client.post("/login", data={"email": email, "password": password})


def _failures(session) -> int:
    return session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "login.failed")
    )


def _waited(response) -> int:
    match = re.search(r"Wait (\d+) seconds?", response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == match.group(1)
    return int(match.group(1))


def test_attacker_from_one_address_does_not_lock_out_the_owner(app, factory, session, clock):
    """Five wrong passwords from the attacker's address: the attacker is refused there, the
    owner is asked to wait a few seconds (password unchecked, nothing recorded) and then
    signs in from their own address with the right password."""
    factory.therapist(email="therapist@example.org")
    attacker, owner = _client(app, ATTACKER), _client(app, OWNER)
    assert [_try(attacker, "wrong-guess-1").status_code for _ in range(5)] == [401] * 5

    assert _try(attacker, TEST_PASSWORD).status_code == 429  # this pair is limited
    too_soon = _try(owner, TEST_PASSWORD)
    assert too_soon.status_code == 429
    assert 0 < _waited(too_soon) <= 5
    assert _try(owner, "not-checked-now").status_code == 429
    assert _failures(session) == 5  # the attempts while waiting checked no password

    clock.advance(timedelta(seconds=6))
    signed_in = _try(owner, TEST_PASSWORD)
    assert signed_in.status_code == 302
    assert owner.get("/caseload").status_code == 200


def test_each_further_failure_makes_the_account_wait_longer(app, factory, session, clock):
    """Past five failures each new one doubles the wait; a success clears it."""
    factory.therapist(email="therapist@example.org")
    first = _client(app, ATTACKER)
    for _ in range(5):
        assert _try(first, "wrong-guess-1").status_code == 401
    clock.advance(timedelta(seconds=6))
    second = _client(app, "203.0.113.67")
    assert _try(second, "wrong-guess-2").status_code == 401  # sixth failure
    owner = _client(app, OWNER)
    assert 5 < _waited(_try(owner, TEST_PASSWORD)) <= 10

    clock.advance(timedelta(seconds=11))
    assert _try(owner, TEST_PASSWORD).status_code == 302
    owner.post("/logout")
    assert _try(_client(app, "203.0.113.68"), "wrong-guess-3").status_code == 401


def test_an_address_with_no_account_is_slowed_the_same_way(app, factory, session):
    """The slow-down must not tell who has an account: five failures from other addresses
    against an address nobody uses give the same "wait" answer as against a real account."""
    factory.therapist(email="therapist@example.org")
    answers = {}
    for email in ("therapist@example.org", "nobody-here@example.org"):
        for number in range(5):
            _try(_client(app, f"203.0.113.{10 + number}"), "wrong-guess-1", email)
        late = _try(_client(app, OWNER), "any-password-at-all", email)
        answers[email] = (late.status_code, _waited(late))
    assert answers["nobody-here@example.org"] == answers["therapist@example.org"]
    assert answers["therapist@example.org"][0] == 429
    stored = " ".join(
        str(row) for row in session.execute(select(AuditEvent.detail, AuditEvent.target_type))
    )
    assert "nobody-here" not in stored  # the address itself is not written down
