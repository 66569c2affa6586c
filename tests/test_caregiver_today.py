"""The caregiver's today and week pages: one-tap Done, undo, details, extra, notes, access."""

import re
import uuid
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

from flask import url_for
from sqlalchemy import select

from homeprogram.extensions import db
from homeprogram.models import AuditEvent, CoachingNote, CompletionLog, Organization
from homeprogram.models.base import utcnow
from homeprogram.services import logs
from homeprogram.services import today as plans
from homeprogram.services.audit import Actor
from tests.caregiver_setup import family, note
from tests.db_state import contents

HX = {"HX-Request": "true"}


def _done(client, fam, assignment, client_id=None, headers=HX):
    return client.post(
        f"/children/{fam.child.id}/logs",
        data={"assignment_id": assignment.id, "client_id": client_id or str(uuid.uuid4())},
        headers=headers,
    )


def _logs(session):
    session.expire_all()
    return list(session.scalars(select(CompletionLog).order_by(CompletionLog.id)))


def test_today_groups_cards_by_routine_anchor(client, factory, login):
    """Today shows each due activity under its routine anchor, morning before bedtime."""
    fam = family(factory)
    login(fam.caregiver.email)
    page = client.get("/today").get_data(as_text=True)
    assert "Today with Sam" in page
    assert page.index("Morning") < page.index("Button practice") < page.index("Bedtime")
    assert page.index("Bedtime") < page.index("Squeeze the putty")
    assert "5 minutes" in page and "10 reps, twice a day" in page
    assert "<details" in page and "Push the button." in page
    assert "data-offline-log" in page and 'name="client_id"' in page


def test_activity_not_due_today_is_not_shown(client, factory, login):
    """An assignment paused or not scheduled on today's weekday is not on the page."""
    fam = family(factory)
    other_days = [d for d in range(7) if d != fam.today.weekday()]
    factory.assignment(
        fam.child,
        factory.activity(title="Weekend walk"),
        start_date=fam.today - timedelta(days=3),
        days_of_week=other_days,
    )
    factory.assignment(
        fam.child,
        factory.activity(title="Classroom only"),
        start_date=fam.today - timedelta(days=3),
        setting="classroom",
    )
    login(fam.caregiver.email)
    page = client.get("/today").get_data(as_text=True)
    assert "Weekend walk" not in page
    assert "Classroom only" not in page


def test_done_logs_at_once_and_returns_the_card(client, factory, login, session):
    """Done via htmx stores one log, answers the card as done with undo and a live message."""
    fam = family(factory)
    login(fam.caregiver.email)
    response = _done(client, fam, fam.morning)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f'id="card-{fam.morning.id}"' in body
    assert "Done" in body and "Undo" in body
    assert 'hx-swap-oob="innerHTML:#live-region"' in body and "Saved." in body
    assert "Log an extra session" in body
    assert "HX-Request" in response.headers.get("Vary", "")
    stored = _logs(session)
    assert len(stored) == 1
    assert stored[0].logged_by_id == fam.caregiver.id
    assert stored[0].local_date == fam.today


def _tap(client, fam, client_id, occurred_at, headers=HX):
    return client.post(
        f"/children/{fam.child.id}/logs",
        data={
            "assignment_id": fam.morning.id,
            "client_id": client_id,
            "occurred_at": occurred_at.isoformat(),
        },
        headers=headers,
    )


def test_a_retried_tap_stores_one_log(client, factory, login, session):
    """The same tap sent twice (one client_id, one tap time: a retry) stores one log."""
    fam = family(factory)
    login(fam.caregiver.email)
    client_id, tapped = str(uuid.uuid4()), utcnow()
    for _ in range(2):
        assert _tap(client, fam, client_id, tapped).status_code == 200
    assert len(_logs(session)) == 1


def test_another_tap_under_a_used_client_id_is_refused_and_says_so(client, factory, login, session):
    """A tap that reuses another tap's client_id (another tap time) is not saved and not
    shown as saved: 409 with the reason for htmx, a message on the today page without it;
    the first log stays the only one."""
    fam = family(factory)
    login(fam.caregiver.email)
    client_id, tapped = str(uuid.uuid4()), utcnow()
    assert _tap(client, fam, client_id, tapped).status_code == 200
    before = contents(session)
    refused = _tap(client, fam, client_id, tapped + timedelta(minutes=5))
    assert refused.status_code == 409
    why = "Not saved: another session is already stored under this tap&#39;s code."
    assert why in refused.get_data(as_text=True)
    plain = _tap(client, fam, client_id, tapped + timedelta(minutes=6), headers={})
    assert plain.status_code == 302
    page = client.get(plain.headers["Location"]).get_data(as_text=True)
    assert f'<p class="flash flash-error">{why}' in page
    assert [log.occurred_at == tapped for log in _logs(session)] == [True]
    assert contents(session) == before


def test_a_form_without_javascript_sent_twice_stores_one_log(client, factory, login, session):
    """Without JavaScript the form carries the id the server wrote and no tap time: the same
    form sent twice (a double click) is one tap, one log, and no "not saved" message."""
    fam = family(factory)
    login(fam.caregiver.email)
    form = {"assignment_id": fam.morning.id, "client_id": str(uuid.uuid4())}
    for _ in range(2):
        response = client.post(f"/children/{fam.child.id}/logs", data=form)
        assert response.status_code == 302
    assert "flash-error" not in client.get(response.headers["Location"]).get_data(as_text=True)
    assert len(_logs(session)) == 1


def test_done_without_javascript_redirects_to_today(client, factory, login, session):
    """The Done form works as a plain form post too: back on today at that card, with its
    sessions shown (the card is done, so they would be folded), Undo at hand."""
    fam = family(factory)
    login(fam.caregiver.email)
    response = _done(client, fam, fam.morning, headers={})
    assert response.status_code == 302
    card = f"card-{fam.morning.id}"
    location = response.headers["Location"]
    assert location.endswith(f"/children/{fam.child.id}/today?logs={fam.morning.id}#{card}")
    [log] = _logs(session)
    page = client.get(location.split("#")[0]).get_data(as_text=True)
    assert f'formaction="/children/{fam.child.id}/logs/{log.id}/undo"' in page


def test_extra_sessions_are_accepted_and_shown_as_extra(client, factory, login, session):
    """Logging beyond the plan is stored and the card says "+1 extra"."""
    fam = family(factory)
    login(fam.caregiver.email)
    _done(client, fam, fam.morning)
    body = _done(client, fam, fam.morning).get_data(as_text=True)
    assert "+1 extra" in body
    assert len(_logs(session)) == 2
    card = plans.card_for(session, fam.child, fam.morning.id, fam.today, user_id=fam.caregiver.id)
    assert (card.expected, card.done, card.extra) == (1, 1, 1)


def test_twice_a_day_shows_progress(client, factory, login):
    """An activity planned twice a day reads "1 of 2 done" after one session."""
    fam = family(factory)
    login(fam.caregiver.email)
    body = _done(client, fam, fam.bedtime).get_data(as_text=True)
    assert "1 of 2 done" in body


def test_undo_from_the_card(client, factory, login, session):
    """Undo soft-deletes the caregiver's log, audits it and the card is to do again."""
    fam = family(factory)
    login(fam.caregiver.email)
    _done(client, fam, fam.morning)
    log = _logs(session)[0]
    response = client.post(f"/children/{fam.child.id}/logs/{log.id}/undo", headers=HX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "To do" in body and "Undone." in body
    assert _logs(session)[0].deleted_at is not None
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-1] == "log.undone"


def test_undo_is_offered_for_the_day_only(client, factory, login, session):
    """A log from an earlier day cannot be undone from the today page."""
    fam = family(factory)
    with db.transaction() as s:
        log, _ = logs.record_log(
            s,
            Actor(fam.caregiver.id),
            client_id=str(uuid.uuid4()),
            assignment_id=fam.morning.id,
            occurred_at=utcnow() - timedelta(days=2),
            user_id=fam.caregiver.id,
        )
    login(fam.caregiver.email)
    before = contents(session)
    assert (
        client.post(f"/children/{fam.child.id}/logs/{log.id}/undo", headers=HX).status_code == 404
    )
    assert contents(session) == before


def test_details_update_the_same_log(client, factory, login, session):
    """Minutes, how it went, a note and the measure are saved onto the log just made."""
    fam = family(factory, measure_name="Seconds to button", measure_unit="s")
    login(fam.caregiver.email)
    body = _done(client, fam, fam.morning).get_data(as_text=True)
    assert "Seconds to button (s)" in body
    log = _logs(session)[0]
    prefix = f"log{log.id}-"
    response = client.post(
        f"/children/{fam.child.id}/logs/{log.id}/details",
        data={
            prefix + "minutes": "7",
            prefix + "response": "just_right",
            prefix + "note": "Loved it",
            prefix + "measure_value": "12.5",
        },
        headers=HX,
    )
    assert response.status_code == 200
    assert "Details saved." in response.get_data(as_text=True)
    stored = _logs(session)
    assert len(stored) == 1
    assert (stored[0].minutes, stored[0].response, stored[0].note, stored[0].measure_value) == (
        7,
        "just_right",
        "Loved it",
        12.5,
    )


def test_bad_details_keep_input_and_explain(client, factory, login, session):
    """Minutes out of range come back next to the field, with the input kept, nothing saved."""
    fam = family(factory)
    login(fam.caregiver.email)
    _done(client, fam, fam.morning)
    log = _logs(session)[0]
    prefix = f"log{log.id}-"
    data = {prefix + "minutes": "900", prefix + "note": "kept text"}
    before = contents(session)
    body = client.post(
        f"/children/{fam.child.id}/logs/{log.id}/details", data=data, headers=HX
    ).get_data(as_text=True)
    assert "Enter whole minutes from 0 to 600." in body
    assert "kept text" in body
    page = client.post(f"/children/{fam.child.id}/logs/{log.id}/details", data=data)
    assert page.status_code == 400
    assert contents(session) == before


class _DetailsForms(HTMLParser):
    """The details forms of a page by action: what a browser would submit (the checked radio
    only), the ids a <label for> names, the invalid fields' ids and the messages shown."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, Any]] = {}
        self._form: dict[str, Any] | None = None
        self._text: list[str] | None = None
        self._textarea = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form" and a.get("action", "").endswith("/details"):
            self._form = {"hx-post": a.get("hx-post"), "values": {}, "labels": set()}
            self._form |= {"invalid": set(), "errors": []}
            self.forms[a["action"]] = self._form
            return
        form = self._form
        if form is None:
            return
        if tag == "input" and (a.get("type") != "radio" or "checked" in a):
            form["values"][a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._text, self._textarea = [], a["name"]
        elif tag == "label" and "for" in a:
            form["labels"].add(a["for"])
        elif tag == "p" and a.get("class") == "error":
            self._text = form["errors"]
        if a.get("aria-invalid") == "true":
            form["invalid"].add(a["id"])

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._form is not None and self._text is not None:
            # A browser drops one line break right after <textarea>.
            text = "".join(self._text).replace("\r\n", "\n")
            self._form["values"][self._textarea] = text.removeprefix("\n")
        if tag in ("textarea", "p"):
            self._text = None
        elif tag == "form":
            self._form = None


def test_each_session_of_the_day_has_its_own_filled_in_details(client, factory, login, session):
    """Every session logged today offers its own details form, filled in with that session's
    values under its own field names; a mistake in one shows next to that session only."""
    fam = family(factory, measure_name="Seconds to button", measure_unit="s")
    login(fam.caregiver.email)
    for assignment in (fam.morning, fam.morning, fam.bedtime, fam.bedtime):
        _done(client, fam, assignment)
    m1, m2, b1, b2 = (log.id for log in _logs(session))
    given = {
        m1: {"minutes": "7", "response": "easy", "note": 'Sam said "again" & <laughed>'},
        b1: {"minutes": "3", "response": "hard"},
        b2: {"note": "Tired"},
    }
    given[m1]["measure_value"] = "12.5"
    for log_id, values in given.items():
        data = {f"log{log_id}-{name}": value for name, value in values.items()}
        response = client.post(
            f"/children/{fam.child.id}/logs/{log_id}/details", data=data, headers=HX
        )
        assert "Details saved." in response.get_data(as_text=True)

    with client.application.test_request_context():
        action = {
            log_id: url_for("caregiver.details", child_id=fam.child.id, log_id=log_id)
            for log_id in (m1, m2, b1, b2)
        }
        undo = {
            log_id: url_for("caregiver.undo", child_id=fam.child.id, log_id=log_id)
            for log_id in (m1, m2, b1, b2)
        }
    page = client.get("/today").get_data(as_text=True)
    # Both cards are done: their sessions are one tap away, loaded when opened.
    assert page.count("Your 2 sessions today") == 2
    for assignment in (fam.morning, fam.bedtime):
        card_url = f"/children/{fam.child.id}/today/cards/{assignment.id}?logs=1"
        page += client.get(card_url, headers=HX).get_data(as_text=True)
    assert all(f'formaction="{url}"' in page for url in undo.values())
    # Today stays light: each form is loaded when its details are opened (htmx asks the
    # details address; without JavaScript the link there opens it as a page).
    assert _DetailsForms(page).forms == {}
    for url in action.values():
        assert f'href="{url}" hx-get="{url}"' in page
    forms = {}
    for url in action.values():
        forms |= _DetailsForms(client.get(url, headers=HX).get_data(as_text=True)).forms
        assert _DetailsForms(client.get(url).get_data(as_text=True)).forms.keys() == {url}
    assert set(forms) == set(action.values())
    for log_id in (m1, m2, b1, b2):
        form = forms[action[log_id]]
        p = f"log{log_id}-"
        measured = log_id in (m1, m2)
        names = ["csrf_token", "minutes", "note", *(["measure_value"] if measured else [])]
        assert form["hx-post"] == action[log_id]
        assert form["labels"] == {p + name for name in names[1:]}
        assert form["values"][p + "csrf_token"]
        typed = given.get(log_id, {})
        shown = {
            name.removeprefix(p): value
            for name, value in form["values"].items()
            if name != p + "csrf_token"
        }
        assert shown == {
            "minutes": typed.get("minutes", ""),
            "note": typed.get("note", ""),
            **({"measure_value": typed.get("measure_value", "")} if measured else {}),
            **({"response": typed["response"]} if "response" in typed else {}),
        }
        assert not form["invalid"] and not form["errors"]
    assert "Seconds to button (s)" in client.get(action[m1], headers=HX).get_data(as_text=True)
    assert page.count("Change details") == 3 and page.count("Add details (optional)") == 1

    bad = {f"log{b1}-minutes": "900", f"log{b1}-note": "kept <text>"}
    card = client.post(f"/children/{fam.child.id}/logs/{b1}/details", data=bad, headers=HX)
    forms = _DetailsForms(card.get_data(as_text=True)).forms
    assert set(forms) == {action[b1]}  # the one with the mistake, open; the other on demand
    forms |= _DetailsForms(client.get(action[b2], headers=HX).get_data(as_text=True)).forms
    assert forms[action[b1]]["invalid"] == {f"log{b1}-minutes"}
    assert forms[action[b1]]["errors"] == ["Enter whole minutes from 0 to 600."]
    assert forms[action[b1]]["values"][f"log{b1}-minutes"] == "900"
    assert forms[action[b1]]["values"][f"log{b1}-note"] == "kept <text>"
    assert not forms[action[b2]]["invalid"] and not forms[action[b2]]["errors"]
    assert forms[action[b2]]["values"][f"log{b2}-note"] == "Tired"
    page = client.post(f"/children/{fam.child.id}/logs/{b1}/details", data=bad)
    assert page.status_code == 400
    forms = _DetailsForms(page.get_data(as_text=True)).forms
    assert forms[action[b1]]["invalid"] == {f"log{b1}-minutes"}
    assert forms[action[b1]]["values"][f"log{b1}-minutes"] == "900"


def test_caregiver_never_sees_another_family(client, factory, login, session):
    """Another family's child answers 404 for today, week, logging and notes."""
    fam = family(factory)
    other = family(factory)  # a second family, in another clinic
    coaching = note(session, other.child)
    login(fam.caregiver.email)
    before = contents(session)
    cid = other.child.id
    assert client.get(f"/children/{cid}/today").status_code == 404
    assert client.get(f"/children/{cid}/week").status_code == 404
    assert client.get(f"/children/{cid}/today/cards/{other.morning.id}").status_code == 404
    assert client.post(f"/children/{cid}/notes/{coaching.id}/dismiss").status_code == 404
    # Posting another family's assignment through one's own child is refused too.
    response = client.post(
        f"/children/{fam.child.id}/logs",
        data={"assignment_id": other.morning.id, "client_id": str(uuid.uuid4())},
        headers=HX,
    )
    assert response.status_code == 404
    assert contents(session) == before


def test_therapist_and_teacher_are_not_caregivers(client, factory, login):
    """The family pages are for caregivers: staff and teachers get 404."""
    fam = family(factory)
    teacher = factory.teacher(fam.child)
    for user in (fam.therapist, teacher):
        login(user.email)
        assert client.get(f"/children/{fam.child.id}/today").status_code == 404
        client.post("/logout")


def test_child_switcher_with_several_children(client, factory, login, session):
    """A caregiver of two children can switch between their today pages."""
    fam = family(factory)
    sibling = factory.child(session.get(Organization, fam.child.organization_id), name="Ana")
    factory.member(sibling, fam.caregiver, "caregiver")
    login(fam.caregiver.email)
    page = client.get("/today").get_data(as_text=True)
    assert 'aria-label="Children"' in page
    assert f'href="/children/{sibling.id}/today"' in page
    # Ana sorts first by name, so /today opens on her.
    assert "Today with Ana" in page
    assert "Today with Sam" in client.get(f"/children/{fam.child.id}/today").get_data(as_text=True)


def test_each_child_has_its_own_today_address(client, factory, login, session):
    """/children/<id>/today is that child's page; /today?child=<id> (the link in reminders
    sent before) leads there; /today names its child's own address; another family's
    child, or a child id that is not one, answers 404."""
    fam = family(factory)
    other = family(factory)
    sibling = factory.child(session.get(Organization, fam.child.organization_id), name="Ana")
    factory.member(sibling, fam.caregiver, "caregiver")
    login(fam.caregiver.email)
    first = client.get("/today")
    assert "Today with Ana" in first.get_data(as_text=True)
    assert first.headers["Content-Location"] == f"/children/{sibling.id}/today"
    legacy = client.get(f"/today?child={fam.child.id}")
    assert legacy.status_code == 302
    assert legacy.headers["Location"] == f"/children/{fam.child.id}/today"
    page = client.get(legacy.headers["Location"]).get_data(as_text=True)
    assert "Today with Sam" in page and "Today with Ana" not in page
    for child in (str(other.child.id), "x", "", "-1", "2147483648", "99999999999999999999999", "٣"):
        assert client.get("/today", query_string={"child": child}).status_code == 404, child


def test_coaching_notes_show_until_dismissed(client, factory, login, session):
    """A therapist's note is at the top of today until the caregiver dismisses it."""
    fam = family(factory)
    coaching = note(session, fam.child, "Warm up the hands first.")
    login(fam.caregiver.email)
    page = client.get("/today").get_data(as_text=True)
    assert page.index("Warm up the hands first.") < page.index("Button practice")
    response = client.post(f"/children/{fam.child.id}/notes/{coaching.id}/dismiss", headers=HX)
    assert response.status_code == 200
    assert "Warm up the hands first." not in client.get("/today").get_data(as_text=True)
    session.expire_all()
    assert session.get(CoachingNote, coaching.id).dismissed_by_id == fam.caregiver.id


def _log_on(fam, assignment, day, times=1):
    for _ in range(times):
        with db.transaction() as s:
            logs.record_log(
                s,
                Actor(fam.caregiver.id),
                client_id=str(uuid.uuid4()),
                assignment_id=assignment.id,
                occurred_at=utcnow() - timedelta(days=(fam.today - day).days),
                user_id=fam.caregiver.id,
            )


def test_week_counts_are_capped_per_assignment_and_day(session, factory):
    """Extra sessions never raise done above plan; the count reads "N of M planned"."""
    fam = family(factory)
    today = fam.today
    start = plans.week_start(today)
    days_so_far = (today - start).days + 1
    # Morning: three sessions today (plan 1). Bedtime: one of two today.
    _log_on(fam, fam.morning, today, times=3)
    _log_on(fam, fam.bedtime, today, times=1)
    week = plans.week(session, fam.child, today, today=today)
    assert week.expected_so_far == 3 * days_so_far
    assert week.done_so_far == 2
    assert week.extra == 2
    rows = {row.title: row for row in week.rows}
    weekday = today.weekday()
    cell = rows["Button practice"].cells[weekday]
    assert (cell.state, cell.done, cell.extra) == ("done", 1, 2)
    # Whatever the weekday: the days before today were missed, the days after are to come.
    states = [c.state for c in rows["Squeeze the putty"].cells]
    assert states == ["missed"] * weekday + ["partly"] + ["upcoming"] * (6 - weekday)


def test_week_page_in_plain_words(client, factory, login, session):
    """The week page says how many planned sessions were done, in words, with stars."""
    fam = family(factory)
    _log_on(fam, fam.morning, fam.today)
    _log_on(fam, fam.bedtime, fam.today, times=2)
    login(fam.caregiver.email)
    page = client.get(f"/children/{fam.child.id}/week").get_data(as_text=True)
    planned = 3 * ((fam.today - plans.week_start(fam.today)).days + 1)
    assert re.search(rf"3 of {planned} planned sessions", page)
    assert "1 star this week" in page
    assert "Star: every planned session done" in page


def test_week_marks_today_not_done_yet_apart_from_missed(client, factory, login):
    """Today's unfinished cell reads "today, not done yet" with its own mark and legend
    entry: it never looks like a missed day."""
    fam = family(factory)
    _log_on(fam, fam.bedtime, fam.today)  # 1 of 2: partly done, Button practice not yet
    login(fam.caregiver.email)
    page = client.get(f"/children/{fam.child.id}/week").get_data(as_text=True)
    row = re.search(r'<th scope="row">Button practice</th>(.*?)</tr>', page, re.S).group(1)
    cells = re.findall(
        r'<td class="cell-(\w+)">\s*<span aria-hidden="true">(.*?)</span>\s*'
        r'<span class="visually-hidden">(.*?)</span>',
        row,
    )
    today = cells[fam.today.weekday()]
    assert today[0] == "to_do" and today[2].lower() == "today, not done yet"
    legend = dict(
        (label.strip().lower(), mark)
        for mark, label in re.findall(
            r'<li><span class="cell-\w+">(.*?)</span>(.*?)</li>',
            page.split('class="legend"')[1].split("</ul>")[0],
        )
    )
    assert legend["today, not done yet"] == today[1]
    assert legend["missed"] != today[1]
    weekday = fam.today.weekday()  # the days before today, nothing logged: missed
    assert [cell[:2] for cell in cells[:weekday]] == [("missed", legend["missed"])] * weekday
    assert [cell[0] for cell in cells[weekday + 1 :]] == ["upcoming"] * (6 - weekday)


def test_not_scheduled_days_are_marked_as_such(session, factory):
    """A day the activity is not planned reads "not scheduled", never "missed"."""
    fam = family(factory)
    yesterday = fam.today - timedelta(days=1)
    only_today = factory.assignment(
        fam.child,
        factory.activity(title="Only today"),
        start_date=yesterday - timedelta(days=7),
        days_of_week=[fam.today.weekday()],
    )
    week = plans.week(session, fam.child, fam.today, today=fam.today)
    row = next(r for r in week.rows if r.title == "Only today")
    assert all(c.state == "not_scheduled" for c in row.cells if c.day != fam.today), only_today.id


def test_streak_counts_completed_days_and_forgives_today(session, factory):
    """Stars for completed days; an unfinished today does not break the streak."""
    fam = family(factory)
    for back in (1, 2, 3):
        day = fam.today - timedelta(days=back)
        _log_on(fam, fam.morning, day)
        _log_on(fam, fam.bedtime, day, times=2)
    assert plans.current_streak(session, fam.child, fam.today) == 3
    _log_on(fam, fam.morning, fam.today)
    _log_on(fam, fam.bedtime, fam.today, times=2)
    assert plans.current_streak(session, fam.child, fam.today) == 4


def test_week_and_streak_read_together_match_each_read_alone(session, factory):
    """The today page reads the week and the streak in one go: same figures, this week or
    a week long ago, extras of other weeks not counted in this one."""
    fam = family(factory)
    for back in (1, 2, 3, 9):
        day = fam.today - timedelta(days=back)
        _log_on(fam, fam.morning, day)
        _log_on(fam, fam.bedtime, day, times=3)  # one extra each day
    for shown in (fam.today, fam.today - timedelta(days=8), fam.today - timedelta(days=200)):
        week, streak = plans.week_and_streak(session, fam.child, shown, today=fam.today)
        alone = plans.week(session, fam.child, shown, today=fam.today)
        assert week == alone
        assert streak == plans.current_streak(session, fam.child, fam.today) == 3
    assert plans.week_and_streak(session, fam.child, fam.today, today=fam.today)[0].extra == sum(
        1 for back in (1, 2, 3) if fam.today - timedelta(days=back) >= plans.week_start(fam.today)
    )


def test_streak_ends_at_a_missed_day_without_saying_so(client, factory, login, session):
    """After a missed day the page shows no streak and no reproach, only encouragement."""
    fam = family(factory)
    _log_on(fam, fam.morning, fam.today - timedelta(days=3))
    _log_on(fam, fam.bedtime, fam.today - timedelta(days=3), times=2)
    assert plans.current_streak(session, fam.child, fam.today) == 0
    login(fam.caregiver.email)
    page = client.get("/today").get_data(as_text=True)
    assert "in a row" not in page
    assert "missed" not in page.lower()


def test_today_page_is_not_stored_by_browsers(client, factory, login):
    """Pages with child data are sent with Cache-Control: no-store."""
    fam = family(factory)
    login(fam.caregiver.email)
    assert client.get("/today").headers["Cache-Control"] == "no-store"


def test_picture_is_behind_the_steps_tap(client, factory, login, session):
    """An activity's picture shows inside the collapsed steps, through the library's route."""
    fam = family(factory)
    activity = fam.morning.activity
    activity.picture = "abc123.webp"
    session.add(activity)
    session.commit()
    login(fam.caregiver.email)
    page = client.get("/today").get_data(as_text=True)
    steps = page[page.index(f'id="card-{fam.morning.id}"') :]
    steps = steps[steps.index('<details class="steps">') : steps.index("</details>")]
    assert "<summary>Steps</summary>" in steps
    with client.application.test_request_context():
        src = url_for("library.picture", activity_id=activity.id, name="abc123.webp")
    assert f'<img src="{src}"' in steps


def test_a_done_cards_steps_load_when_opened(client, factory, login):
    """Once an activity is done for the day its steps stay one tap away but leave the page
    (Today's weight): htmx loads them when opened; without JavaScript a link shows today
    with them open. An activity still to do has them in the page."""
    fam = family(factory)
    login(fam.caregiver.email)
    _done(client, fam, fam.morning)
    page = client.get("/today").get_data(as_text=True)
    card = rf'<article[^>]*id="card-{fam.morning.id}".*?</article>'
    done = re.search(card, page, re.S).group(0)
    assert "Push the button." not in done
    card_url = f"/children/{fam.child.id}/today/cards/{fam.morning.id}"
    assert f'hx-get="{card_url}?steps=1" hx-trigger="toggle once"' in done
    link = f"/children/{fam.child.id}/today?steps={fam.morning.id}#card-{fam.morning.id}"
    assert f'href="{link}"' in done
    steps = client.get(f"{card_url}?steps=1", headers=HX).get_data(as_text=True)
    assert "<li>Push the button.</li>" in steps and "<article" not in steps
    opened = client.get(link.split("#")[0]).get_data(as_text=True)
    opened = re.search(card, opened, re.S).group(0)
    assert '<details class="steps" open>' in opened and "Push the button." in opened
    assert "Squeeze the putty" in page  # still to do: its steps are in the page
    assert page.count('<details class="steps">') == 1


def test_a_done_cards_sessions_are_one_tap_away(client, factory, login, session):
    """A done card counts its sessions and loads them (Undo, details) when opened; the card
    answering the tap keeps them in view; without JavaScript a link shows them."""
    fam = family(factory)
    login(fam.caregiver.email)
    answered = _done(client, fam, fam.morning).get_data(as_text=True)
    [log] = _logs(session)
    undo = f'formaction="/children/{fam.child.id}/logs/{log.id}/undo"'
    assert undo in answered  # just tapped: Undo is right there
    page = client.get("/today").get_data(as_text=True)
    card = rf'<article[^>]*id="card-{fam.morning.id}".*?</article>'
    done = re.search(card, page, re.S).group(0)
    assert undo not in done and "<summary>Your session today</summary>" in done
    card_url = f"/children/{fam.child.id}/today/cards/{fam.morning.id}"
    assert f'hx-get="{card_url}?logs=1" hx-trigger="toggle once"' in done
    sessions = client.get(f"{card_url}?logs=1", headers=HX).get_data(as_text=True)
    assert undo in sessions and "<article" not in sessions
    link = f"/children/{fam.child.id}/today?logs={fam.morning.id}"
    assert f'href="{link}#card-{fam.morning.id}"' in done
    opened = re.search(card, client.get(link).get_data(as_text=True), re.S).group(0)
    assert undo in opened


def test_details_open_as_a_page_without_javascript(client, factory, login, session):
    """The link to a session's details opens a page with the form filled in."""
    fam = family(factory)
    login(fam.caregiver.email)
    _done(client, fam, fam.morning)
    log = _logs(session)[0]
    page = client.get(f"/children/{fam.child.id}/logs/{log.id}/details")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "<h1>Button practice</h1>" in body and "Save details" in body
    assert "Back to today" in body
    client.post(f"/children/{fam.child.id}/logs/{log.id}/undo")
    assert client.get(f"/children/{fam.child.id}/logs/{log.id}/details").status_code == 404
