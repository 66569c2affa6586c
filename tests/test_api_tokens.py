"""Personal API tokens on the settings page: created, shown once, stored hashed, revoked."""

import hashlib
import re

from sqlalchemy import select

from homeprogram.models import ApiToken, AuditEvent
from tests.caregiver_setup import family


def test_create_use_and_revoke_a_token(client, factory, login, session):
    """A caregiver creates a token, sees it once, uses it, revokes it; only a hash is kept."""
    fam = family(factory)
    login(fam.caregiver.email)
    page = client.post("/settings/tokens", data={"name": "My spreadsheet"})
    assert page.status_code == 200
    plain = re.search(r'class="copy token-value">(hp_[A-Za-z0-9_-]+)<', page.get_data(as_text=True))
    assert plain
    token = plain.group(1)
    row = session.scalar(select(ApiToken))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (row.name, row.prefix)
    listing = client.get("/settings").get_data(as_text=True)
    assert "My spreadsheet" in listing and token not in listing
    api = client.application.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/me", headers=headers).status_code == 200
    assert client.post(f"/settings/tokens/{row.id}/revoke").status_code == 302
    assert api.get("/api/v1/me", headers=headers).status_code == 401
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"api_token.created", "api_token.revoked"} <= actions


def test_token_needs_a_name_and_others_tokens_are_404(client, factory, login, session):
    """An empty name is refused next to the field; another user's token cannot be revoked."""
    fam = family(factory)
    other = factory.caregiver(fam.child)
    login(other.email)
    client.post("/settings/tokens", data={"name": "theirs"})
    client.post("/logout")
    login(fam.caregiver.email)
    response = client.post("/settings/tokens", data={"name": "  "})
    assert response.status_code == 400
    assert "Give the token a name" in response.get_data(as_text=True)
    theirs = session.scalar(select(ApiToken))
    assert client.post(f"/settings/tokens/{theirs.id}/revoke").status_code == 404
