"""The app starts, serves pages and reaches its database."""


def test_healthz_reports_database(client):
    """/healthz answers ok when the database is reachable."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_therapist_lands_on_caseload(client, factory, login):
    """A therapist who logs in lands on the dashboard; the caseload lists their children."""
    org = factory.org()
    therapist = factory.therapist(org, email="t@example.org")
    factory.child(org, therapist=therapist, name="Ayla")
    response = login("t@example.org")
    assert response.headers["Location"].endswith("/dashboard")
    page = client.get("/caseload").get_data(as_text=True)
    assert "Ayla" in page


def test_a_serving_process_compiles_every_template_before_the_first_request(app):
    """No user waits for a page's first compilation (about 130 ms for today), and a broken
    template stops the server at start instead of failing one family's page later."""
    import gc

    from homeprogram import startup

    pages = app.jinja_env.list_templates(extensions=["html"])
    assert "caregiver/today.html" in pages
    try:
        startup.settle(app)
    finally:
        gc.unfreeze()
    compiled = {name for (_, name) in app.jinja_env.cache}
    assert compiled >= set(pages)
