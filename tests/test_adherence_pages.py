"""Every page that shows adherence, after a therapist pauses a classroom-only strategy (and
then resumes or ends it): each page answers, for the therapist and for the family."""

from datetime import timedelta

import pytest

from tests.caregiver_setup import family

DAY = timedelta(days=1)

THEN = {
    "left paused": [],
    "resumed": [("resume", 1)],
    "ended": [("end", 0)],
}


@pytest.mark.parametrize("then", THEN)
def test_pages_answer_after_a_classroom_only_strategy_is_paused(
    factory, session, client, login, then
):
    """Dashboard, progress, report, Today, Week and the API answer 200 whatever happened
    to the paused classroom-only strategy next."""
    fam = family(factory)
    child = fam.child
    school = factory.assignment(
        child,
        factory.activity(title="Movement break"),
        start_date=fam.today - 10 * DAY,
        setting="classroom",
    )
    login(fam.therapist.email)
    base = f"/children/{child.id}/program/{school.id}"
    assert client.post(f"{base}/pause").status_code == 302
    for action, days_on in THEN[then]:
        day = (fam.today + days_on * DAY).isoformat()
        assert client.post(f"{base}/{action}", data={"day": day}).status_code == 302
    week = {"from": (fam.today - 6 * DAY).isoformat(), "to": fam.today.isoformat()}
    for url, query in [
        ("/dashboard", None),
        (f"/children/{child.id}/progress", None),
        (f"/children/{child.id}/report", None),
        (f"/api/v1/children/{child.id}/adherence", week),
    ]:
        assert client.get(url, query_string=query).status_code == 200, url
    client.post("/logout")
    login(fam.caregiver.email)
    for url, query in [
        ("/today", None),
        (f"/children/{child.id}/today", None),
        (f"/children/{child.id}/week", None),
        (f"/api/v1/children/{child.id}/adherence", week),
    ]:
        assert client.get(url, query_string=query).status_code == 200, url
