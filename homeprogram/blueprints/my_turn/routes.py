""" "My turn": the child's own screen on a phone or tablet, and the caregiver's set-up.

Pages for the child (their own minimal base, templates/my_turn/base.html: no app
navigation, no link out of "My turn"), in the family's language:

- ``home``: today's home activities still in force, in routine order (the today service's
  day plan, grouped by anchor as Today shows them), as big picture cards, done ones with a
  calm check; a first–then strip (the first two still to do); the star jar, if the family
  set one up; the "Grown-ups" button.
- ``activity``: one activity, its steps one at a time. Every step is on the page and CSS
  ``:target`` shows one (``#step-2``; no JavaScript needed to walk); the level's variation
  sentence and what is needed sit above. "I did it!" is the caregiver's Done
  (``caregiver.log_done``, a fresh client id); static/js/my-turn.js sends it, or keeps it in
  the offline queue, and celebrates.
- ``leave``: the sum a grown-up answers to leave (``lock.py``).

For the caregiver (the app's base, the caregiver's language): ``setup`` (start "My turn",
the star jar, the picture schedule), ``start``, ``reward`` / ``end_reward``, and
``schedule``, the printable picture schedule of the day or week, in the family's language.

Everything answers 404 to anyone but the child's caregivers.
"""

import uuid
from datetime import date, timedelta
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user

from homeprogram import languages
from homeprogram.access_control import caregiver_required
from homeprogram.blueprints.auth.forms import ConfirmForm
from homeprogram.blueprints.caregiver.display import anchor_label
from homeprogram.blueprints.caregiver.family import child_today as _today
from homeprogram.blueprints.caregiver.family import family_child as _family_child
from homeprogram.blueprints.caregiver.family import picture_url as _picture_url
from homeprogram.blueprints.my_turn import lock
from homeprogram.blueprints.my_turn.blueprint import bp
from homeprogram.blueprints.my_turn.forms import LeaveForm, RewardForm
from homeprogram.extensions import db
from homeprogram.models import Child
from homeprogram.services import rewards
from homeprogram.services import today as plans
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.web import actor, apply_errors, render

__all__ = ["bp"]

SPANS = ("day", "week")


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "anchor_label": anchor_label,
        "new_client_id": lambda: str(uuid.uuid4()),
        "picture_url": _picture_url,
    }


def _planned(child: Child, day: date) -> list[plans.Card]:
    """The day's cards in routine order; an activity not planned that day but logged anyway
    (an extra session) is not on the child's screen."""
    plan = plans.day_plan(db.session, child, day, user_id=current_user.id)
    return [card for card in plan.cards if card.expected > 0]


def _in_family_language(child: Child) -> None:
    languages.use_for_page(child.family_language)


# --- The child's screen ------------------------------------------------------------------


@bp.get("/children/<int:child_id>/my-turn")
@caregiver_required
def home(child_id: int):
    """``?done=1``: back from an "I did it!" sent without JavaScript (see lock.py)."""
    child = _family_child(child_id)
    _in_family_language(child)
    cards = _planned(child, _today(child))
    return render(
        "my_turn/home.html",
        child=child,
        cards=cards,
        to_do=[card for card in cards if not card.complete],
        jar=rewards.jar(db.session, child.id),
        just_done=request.args.get("done") == "1",
    )


@bp.get("/children/<int:child_id>/my-turn/activities/<int:assignment_id>")
@caregiver_required
def activity(child_id: int, assignment_id: int):
    child = _family_child(child_id)
    _in_family_language(child)
    try:
        card = plans.card_for(
            db.session, child, assignment_id, _today(child), user_id=current_user.id
        )
    except NotFound:
        abort(404)
    return render(
        "my_turn/activity.html",
        child=child,
        card=card,
        jar=rewards.jar(db.session, child.id),
    )


@bp.route("/children/<int:child_id>/my-turn/leave", methods=["GET", "POST"])
@caregiver_required
def leave(child_id: int):
    """The grown-up's way out: the right sum ends the lock and opens Today; a wrong one
    draws a new sum (400). A browser not locked into this child's screen just goes."""
    child = _family_child(child_id)
    _in_family_language(child)
    held = lock.current()
    if held is not None and held.child_id != child.id:
        held = None  # cannot happen while locked (lock.py sends other children away)
    if request.method == "GET":
        question = held.question if held else lock.draw_question()
        return render("my_turn/leave.html", child=child, form=LeaveForm(), question=question)
    form = LeaveForm()
    if held is None:
        return redirect(url_for("caregiver.child_today", child_id=child.id), 303)
    valid = form.validate_on_submit()
    if valid and _answer(form.answer.data) == held.answer:
        lock.end()
        return redirect(url_for("caregiver.child_today", child_id=child.id), 303)
    form.answer.errors = [
        gettext("That is not the answer. Here is a new sum.")
        if valid
        else gettext("The page was out of date. Please answer this sum.")
    ]
    fresh = lock.new_question(held)
    return render("my_turn/leave.html", child=child, form=form, question=fresh.question), 400


def _answer(raw: str | None) -> int | None:
    text = (raw or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None


# --- The caregiver's set-up --------------------------------------------------------------


def _setup_page(child: Child, reward_form: RewardForm | None = None, status: int = 200) -> Any:
    return render(
        "my_turn/setup.html",
        child=child,
        jar=rewards.jar(db.session, child.id),
        reward_form=reward_form or RewardForm(formdata=None),
        confirm=ConfirmForm(),
    ), status


@bp.get("/children/<int:child_id>/my-turn/setup")
@caregiver_required
def setup(child_id: int):
    return _setup_page(_family_child(child_id))


@bp.post("/children/<int:child_id>/my-turn/start")
@caregiver_required
def start(child_id: int):
    """Hand the phone over: this browser stays in the child's screen until a grown-up
    answers the sum (lock.py)."""
    child = _family_child(child_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    lock.start(child.id, current_user.id)
    return redirect(url_for("my_turn.home", child_id=child.id), 303)


@bp.post("/children/<int:child_id>/my-turn/reward")
@caregiver_required
def reward(child_id: int):
    child = _family_child(child_id)
    form = RewardForm()
    if not form.validate_on_submit():
        return _setup_page(child, form, 400)
    s = db.session
    try:
        rewards.set_reward(s, actor(), child, form.prize.data or "", form.stars_needed.data)
    except ValidationFailed as failed:
        s.rollback()
        apply_errors(form, failed.errors)
        return _setup_page(child, form, 400)
    s.commit()
    flash(gettext("The star jar is ready."), "success")
    return redirect(url_for("my_turn.setup", child_id=child.id, _anchor="jar"), 303)


@bp.post("/children/<int:child_id>/my-turn/reward/end")
@caregiver_required
def end_reward(child_id: int):
    child = _family_child(child_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    s = db.session
    if rewards.end_reward(s, actor(), child):
        s.commit()
        flash(gettext("The star jar is put away."), "info")
    return redirect(url_for("my_turn.setup", child_id=child.id, _anchor="jar"), 303)


@bp.get("/children/<int:child_id>/my-turn/schedule")
@caregiver_required
def schedule(child_id: int):
    """The picture schedule to cut out: ``span=day`` (today) or ``week`` (Monday to
    Sunday of this week), in the family's language unless ``lang`` chooses another."""
    child = _family_child(child_id)
    languages.use_for_page(
        languages.supported_or_none(request.args.get("lang")) or child.family_language
    )
    span = request.args.get("span", "day")
    status = 200
    if span not in SPANS:
        flash(gettext("That schedule cannot be shown: here is today's."), "error")
        span, status = "day", 400
    today = _today(child)
    if span == "day":
        days = [today]
    else:
        monday = plans.week_start(today)
        days = [monday + timedelta(days=n) for n in range(7)]
    response = render(
        "my_turn/schedule.html",
        child=child,
        span=span,
        days=[(day, _planned(child, day)) for day in days],
    )
    response.status_code = status
    return response
