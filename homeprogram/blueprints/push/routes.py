"""Notification settings (devices, reminder plans) and the staff inbox."""

from typing import Any

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from homeprogram import push_config
from homeprogram.access_control import caregiver_required, staff_required
from homeprogram.blueprints.push.forms import EmptyForm, ReminderPlanForm
from homeprogram.extensions import csrf, db
from homeprogram.models import Child, ReminderPlan
from homeprogram.models.base import utcnow
from homeprogram.services import access, audit, inbox, push, reminders
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.services.vapid import PushConfigError
from homeprogram.web import actor, apply_errors, child_or_404, render

bp = Blueprint("push", __name__)


def _endpoint_policy() -> push.EndpointPolicy:
    # The browsers' push services plus PUSH_ALLOWED_HOSTS; PUSH_ALLOW_INSECURE_ENDPOINTS
    # (the tests' local http push service) is never for production.
    return push.EndpointPolicy.from_config(current_app.config)


def _problem(status: int, errors: dict[str, str]) -> Any:
    response = jsonify({"errors": errors})
    response.status_code = status
    return response


# --- devices ----------------------------------------------------------------------------------


def _devices_page(status: int = 200) -> Any:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        public_key = push_config.keys(app).public_key
    except PushConfigError:
        public_key = ""
    response = render(
        "push/devices.html",
        "push/partials/device_list.html",
        devices=push.devices(db.session, current_user.id),
        public_key=public_key,
        form=EmptyForm(),
    )
    response.status_code = status
    return response


@bp.get("/settings/devices")
@login_required
def devices():
    return _devices_page()


@bp.post("/settings/devices")
@login_required
def subscribe():
    """Store the subscription the page's script got from the browser (JSON, CSRF header)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _problem(400, {"subscription": _("Send the subscription as JSON.")})
    s = db.session
    try:
        sub = push.save_subscription(
            s,
            current_user.id,
            data.get("subscription"),
            str(data.get("device_name") or ""),
            policy=_endpoint_policy(),
        )
    except ValidationFailed as failed:
        s.rollback()
        return _problem(400, failed.errors)
    created_plans = 0
    if "caregiver" in current_user.roles:
        # The first device switches on the default reminder (17:00 local, every day).
        created_plans = reminders.ensure_default_plans(s, current_user.id)
    audit.record(s, actor(), "push.subscribed", target_type="push_subscription", target_id=sub.id)
    s.commit()
    return jsonify({"id": sub.id, "device_name": sub.device_name, "plans": created_plans}), 201


@bp.post("/settings/devices/<int:subscription_id>/remove")
@login_required
def remove_device(subscription_id: int):
    form = EmptyForm()
    if not form.validate_on_submit():
        return _devices_page(400)
    s = db.session
    try:
        push.remove_device(s, current_user.id, subscription_id)
    except NotFound:
        s.rollback()
        return _devices_page(404)
    audit.record(
        s,
        actor(),
        "push.device_removed",
        target_type="push_subscription",
        target_id=subscription_id,
    )
    s.commit()
    flash(_("Device removed. It will not get notifications any more."), "info")
    return redirect(url_for("push.devices"))


@bp.post("/settings/devices/test")
@login_required
def test_notification():
    form = EmptyForm()
    if not form.validate_on_submit():
        return _devices_page(400)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    s = db.session
    subs = push.subscriptions_by_user(s, [current_user.id]).get(current_user.id, [])
    if not subs:
        flash(_("No device has notifications turned on yet."), "error")
        return redirect(url_for("push.devices"))
    try:
        sender = push_config.sender(app)
    except PushConfigError:
        flash(
            _("This server is not set up to send notifications yet. Ask its administrator."),
            "error",
        )
        return redirect(url_for("push.devices"))
    message = push.PushMessage(
        title=_("Test notification"),
        body=_("Notifications work on this device."),
        url=url_for("push.devices"),
        ttl=600,
        urgency="high",
        topic="test",
    )
    results = sender.send_many([push.PushJob(sub, message) for sub in subs])
    push.record_results(s, (r for _, r in results), utcnow())
    s.commit()
    ok = sum(1 for _, r in results if r.ok)
    if ok == len(results):
        flash(_("Test notification sent to %(num)d device(s).", num=ok), "info")
    else:
        flash(
            _(
                "Sent to %(ok)d of %(num)d device(s); the others did not accept it.",
                ok=ok,
                num=len(results),
            ),
            "error",
        )
    return redirect(url_for("push.devices"))


@bp.get("/push/key")
def public_key():
    """The applicationServerKey, for the service worker re-subscribing on its own."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return jsonify({"publicKey": push_config.keys(app).public_key})


@bp.post("/push/renew")
@csrf.exempt
def renew():
    """``pushsubscriptionchange`` from the service worker: no session, no CSRF token there.

    The old endpoint is the proof: an unguessable URL only that browser and we know.
    """
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("old_endpoint"), str):
        return _problem(400, {"old_endpoint": "missing"})
    s = db.session
    try:
        sub = push.renew_subscription(
            s, data["old_endpoint"], data.get("subscription"), policy=_endpoint_policy()
        )
    except NotFound:
        s.rollback()
        return _problem(404, {"old_endpoint": "unknown"})
    except ValidationFailed as failed:
        s.rollback()
        return _problem(400, failed.errors)
    s.commit()
    return jsonify({"id": sub.id}), 200


# --- reminder plans ---------------------------------------------------------------------------


def _plan_form(child: Child, plan: ReminderPlan | None, formdata: Any = None) -> ReminderPlanForm:
    plan = plan or reminders.default_plan(current_user.id, child.id)
    form = ReminderPlanForm(formdata=formdata, prefix=f"c{child.id}")
    if formdata is None:
        times = [*plan.times, "", "", ""]
        form.time_1.data, form.time_2.data, form.time_3.data = times[:3]
        form.days_of_week.data = list(plan.days_of_week)
        form.quiet_start.data = plan.quiet_start or ""
        form.quiet_end.data = plan.quiet_end or ""
        form.morning_nudge.data = plan.morning_nudge
        form.enabled.data = plan.enabled if plan.id else True
    return form


def _reminders_page(forms: dict[int, ReminderPlanForm] | None = None, status: int = 200) -> Any:
    s = db.session
    kids = access.children_for(s, current_user.id, "caregiver")
    forms = forms or {}
    entries = [
        (
            child,
            forms.get(child.id)
            or _plan_form(child, reminders.plan_for(s, current_user.id, child.id)),
        )
        for child in kids
    ]
    response = render(
        "push/reminders.html",
        entries=entries,
        has_device=bool(push.devices(s, current_user.id)),
    )
    response.status_code = status
    return response


@bp.get("/settings/reminders")
@caregiver_required
def reminder_settings():
    return _reminders_page()


@bp.post("/settings/reminders/<int:child_id>")
@caregiver_required
def save_reminders(child_id: int):
    child = child_or_404(child_id, access.FAMILY_ROLES).child
    s = db.session
    form = _plan_form(child, None, formdata=request.form)
    if not form.validate_on_submit():
        return _reminders_page({child.id: form}, 400)
    data = reminders.PlanInput(
        times=form.times(),
        days_of_week=list(form.days_of_week.data or []),
        quiet_start=form.quiet_start.data,
        quiet_end=form.quiet_end.data,
        morning_nudge=bool(form.morning_nudge.data),
        enabled=bool(form.enabled.data),
    )
    try:
        reminders.save_plan(s, actor(), current_user.id, child, data)
    except ValidationFailed as failed:
        s.rollback()
        errors = dict(failed.errors)
        if "times" in errors:
            errors["time_1"] = errors.pop("times")
        apply_errors(form, errors)
        return _reminders_page({child.id: form}, 400)
    s.commit()
    flash(_("Reminders for %(name)s saved.", name=child.display_name), "info")
    return redirect(url_for("push.reminder_settings"))


# --- the staff inbox --------------------------------------------------------------------------


@bp.get("/inbox")
@staff_required
def inbox_list():
    return render("push/inbox.html", messages=inbox.inbox(db.session, current_user.id))


@bp.get("/inbox/<int:message_id>")
@staff_required
def inbox_message(message_id: int):
    try:
        with db.transaction() as s:  # reading marks it read: a small write of its own
            message = inbox.open_message(s, current_user.id, message_id, utcnow())
    except NotFound:
        abort(404)
    return render("push/message.html", message=message)


@bp.app_context_processor
def _unread() -> dict[str, Any]:
    if current_user and current_user.is_authenticated and current_user.is_staff:
        return {"inbox_unread": inbox.unread_count(db.session, current_user.id)}
    return {}
