"""The homeprogram command: demo seeding, users, passwords, configuration files."""

import os
import stat

from sqlalchemy import func, select

from homeprogram.models import Child, Organization, User, UserSession
from homeprogram.services import demo


def test_demo_seeds_once(runner, session):
    """`homeprogram demo` seeds the demo data on the first run only and prints the logins."""
    first = runner.invoke(args=["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "Demo data created." in first.output
    for _role, email, password in demo.LOGINS:
        assert email in first.output
        assert password in first.output
    second = runner.invoke(args=["demo", "--no-serve"])
    assert second.exit_code == 0, second.output
    assert "not seeded again" in second.output
    assert session.scalar(select(func.count()).select_from(Organization)) == 1
    assert session.scalar(select(func.count()).select_from(Child)) == 3
    assert session.scalar(select(func.count()).select_from(User)) == 4


def test_demo_logins_work(runner, client):
    """Every printed demo login signs in and lands on its role's home page."""
    runner.invoke(args=["demo", "--no-serve"])
    homes = {"therapist": "/dashboard", "caregiver": "/today", "teacher": "/students"}
    for role, email, password in demo.LOGINS:
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 302, (email, response.status_code)
        assert response.headers["Location"].endswith(homes[role])
        client.post("/logout")


def test_create_user_and_reset_password(runner, client, session):
    """create-user makes an admin therapist; reset-password changes it and ends sessions."""
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "ot@example.org",
            "--name",
            "O T",
            "--org",
            "Clinic",
            "--password",
            "first-long-passphrase",
        ],
    )
    assert result.exit_code == 0, result.output
    client.post("/login", data={"email": "ot@example.org", "password": "first-long-passphrase"})
    assert client.get("/caseload").status_code == 200
    weak = runner.invoke(
        args=["reset-password", "--email", "ot@example.org", "--password", "short"]
    )
    assert weak.exit_code == 1
    assert "at least 10 characters" in weak.output
    result = runner.invoke(
        args=["reset-password", "--email", "ot@example.org", "--password", "second-long-passphrase"]
    )
    assert result.exit_code == 0, result.output
    assert client.get("/caseload").status_code == 302
    assert (
        session.scalar(
            select(func.count()).select_from(UserSession).where(UserSession.ended_at.is_(None))
        )
        == 0
    )


def test_secret_key_generated_with_private_mode(tmp_path, monkeypatch, database_url):
    """Without a configured key, one is generated into instance/ readable by the owner only."""
    from homeprogram import create_app

    instance = tmp_path / "fresh-instance"
    monkeypatch.setenv("HOMEPROGRAM_INSTANCE_PATH", str(instance))
    monkeypatch.delenv("HOMEPROGRAM_SECRET_KEY", raising=False)
    app = create_app({"DATABASE_URL": database_url})
    key_file = instance / "secret_key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert app.secret_key == key_file.read_text().strip()
    assert len(app.secret_key) >= 32
    again = create_app({"DATABASE_URL": database_url})
    assert again.secret_key == app.secret_key


def test_environment_overrides_instance_config(tmp_path, monkeypatch, database_url):
    """Settings come from defaults, then instance/config.py, then HOMEPROGRAM_* variables."""
    from homeprogram import create_app

    instance = tmp_path / "inst"
    instance.mkdir()
    (instance / "config.py").write_text("STAFF_IDLE_TIMEOUT_MINUTES = 10\nINVITE_EXPIRY_DAYS = 3\n")
    monkeypatch.setenv("HOMEPROGRAM_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("HOMEPROGRAM_INVITE_EXPIRY_DAYS", "2")
    app = create_app({"DATABASE_URL": database_url})
    assert app.config["STAFF_IDLE_TIMEOUT_MINUTES"] == 10
    assert app.config["INVITE_EXPIRY_DAYS"] == 2


def test_demo_has_programs_history_and_flags(runner, client, session):
    """The demo children come with programs and weeks of practice, so every page has content:
    the family's today page lists activities and the dashboard flags the child who struggles."""
    from homeprogram.models import Assignment, CompletionLog

    runner.invoke(args=["demo", "--no-serve"])
    assert session.scalar(select(func.count()).select_from(Assignment)) == 10
    assert session.scalar(select(func.count()).select_from(CompletionLog)) > 50
    client.post("/login", data={"email": demo.LOGINS[1][1], "password": demo.LOGINS[1][2]})
    today = client.get("/today").get_data(as_text=True)
    assert "data-done-button" in today
    client.post("/logout")
    client.post("/login", data={"email": demo.LOGINS[0][1], "password": demo.LOGINS[0][2]})
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert dashboard.index("Tobi") < dashboard.index("Sam")  # who needs attention comes first
