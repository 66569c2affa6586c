"""The route table: one entry per endpoint of the app (see tests/test_authz.py).

An entry says how to build the endpoint's URL arguments and form data from the test world,
which methods it answers, and who its rightful users are.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from homeprogram.models.base import utcnow
from tests.world import P256DH, PERSONAS, World

PUBLIC = frozenset({"*"})  # anyone, signed in or not
ANY_USER = frozenset(PERSONAS) - {"deactivated"}  # any signed-in person
STAFF = frozenset({"admin", "therapist", "colleague", "other_therapist"})
ADMINS = frozenset({"admin", "other_therapist"})  # other_therapist is admin of org B
CHILD_STAFF = frozenset({"admin", "therapist"})  # staff of the child "Maya"
ORG_A_STAFF = frozenset({"admin", "therapist", "colleague"})
CAREGIVERS = frozenset({"caregiver", "other_caregiver"})
TEACHER = frozenset({"teacher"})
FAMILY = frozenset({"caregiver"})  # the caregiver of "Maya"
LOGGERS = frozenset({"caregiver", "therapist", "admin"})  # may log for "Maya"
OK = frozenset({200, 204, 302, 303})


@dataclass(frozen=True)
class Entry:
    methods: tuple[str, ...]
    who: frozenset[str]
    args: Callable[[World], dict[str, Any]] = lambda w: {}
    data: Callable[[World], dict[str, Any]] = lambda w: {}
    ok: frozenset[int] = OK
    headers: dict[str, str] = field(default_factory=dict)
    to_login: bool = False  # the rightful user is sent to the login page (log out)
    json: bool = False  # the body is JSON (scripts), not a form
    # Query parameters a GET page reads (the fuzz tests vary them).
    query: tuple[str, ...] = ()


def _child(w: World) -> dict[str, Any]:
    return {"child_id": w["child"].id}


def _strategy(w: World) -> dict[str, Any]:
    return {"child_id": w["child"].id, "assignment_id": w["assignment"].id}


def _activity(w: World) -> dict[str, Any]:
    return {"activity_id": w["activity"].id}


def _activity_form(w: World) -> dict[str, Any]:
    return {
        "title": "Wall push-ups",
        "focus_area": "gross_motor",
        "age_min": "4",
        "age_max": "10",
        "summary": "Heavy work before sitting down.",
        "steps": "Hands on the wall\nPush ten times",
        "materials": "a wall",
        "easier": "",
        "harder": "",
        "default_dose": "10 push-ups",
        "default_minutes": "3",
    }


def _translation_form(w: World) -> dict[str, Any]:
    activity = w["activity"]
    return {
        "title": "Pausa de movimiento",
        "summary": "Moverse antes de sentarse." if activity.summary else "",
        "steps": "\n".join(f"Paso {n}" for n, _ in enumerate(activity.steps, 1)),
        "materials": "\n".join("papel" for _ in activity.materials),
    }


def _prescription(w: World) -> dict[str, Any]:
    return {
        "dose_amount": "10",
        "dose_unit": "reps",
        "dose_text": "",
        "minutes_per_session": "5",
        "days_of_week": ["0", "2", "4"],
        "times_per_day": "1",
        "end_date": "",
        "setting": "both",
        "anchor": "other",
        "anchor_other": "movement break every 30 minutes",
        "caregiver_note": "Keep it playful",
        "measure_name": "",
        "measure_unit": "",
        "measure_direction": "higher",
    }


def _add_activity(w: World) -> dict[str, Any]:
    return {
        **_prescription(w),
        "activity_id": str(w["activity"].id),
        "start_date": w["today"].isoformat(),
    }


def _change(w: World) -> dict[str, Any]:
    return {**_prescription(w), "effective_date": w["today"].isoformat()}


def _day(w: World) -> dict[str, Any]:
    return {"day": w["today"].isoformat()}


def _template(w: World) -> dict[str, Any]:
    return {"template_id": w["template"].id}


def _log(w: World) -> dict[str, Any]:
    return {"child_id": w["child"].id, "log_id": w["log"].id}


def _goal(w: World) -> dict[str, Any]:
    return {"child_id": w["child"].id, "goal_id": w["goal"].id}


def _goal_form(w: World) -> dict[str, Any]:
    return {
        "statement": "Buttons a shirt",
        "measure": "buttons",
        "unit": "of 5",
        "baseline": "1",
        "target": "5",
        "target_date": "",
        "assignment_ids": [str(w["home"].id)],
        "shared_with_school": "y",
    }


def _range(w: World) -> dict[str, Any]:
    return {
        "start": (w["today"] - timedelta(days=13)).isoformat(),
        "end": w["today"].isoformat(),
        "comment": "Steady progress",
    }


def _child_form(w: World) -> dict[str, Any]:
    return {
        "display_name": "Rio",
        "birth_month": "3",
        "birth_year": "2019",
        "timezone": "America/Chicago",
    }


TABLE: dict[str, Entry] = {
    # core and auth
    "core.index": Entry(("GET",), PUBLIC),
    "core.healthz": Entry(("GET",), PUBLIC),
    "core.choose_language": Entry(
        ("POST",), PUBLIC, data=lambda w: {"language": "en", "next": "/login"}
    ),
    "auth.login": Entry(
        ("GET", "POST"),
        PUBLIC,
        data=lambda w: {"email": "no@x.test", "password": "wrong"},
        ok=frozenset({200, 302, 401}),
        query=("next",),
    ),
    "auth.logout": Entry(("POST",), ANY_USER, to_login=True),
    "auth.signup": Entry(
        ("GET", "POST"),
        PUBLIC,
        data=lambda w: {
            "org_name": "Clinic",
            "name": "New Person",
            "email": "new@x.test",
            "timezone": "UTC",
        },
        ok=frozenset({200, 302}),
    ),
    "auth.signup_confirm": Entry(
        ("GET", "POST"),
        PUBLIC,
        args=lambda w: {"token": "not-a-signed-link"},
        data=lambda w: {"password": "a-long-enough-passphrase"},
        ok=frozenset({200, 302, 404}),
    ),
    "auth.accept_invite": Entry(
        ("GET", "POST"),
        PUBLIC,
        args=lambda w: {"token": w.tokens["invite"]},
        data=lambda w: {
            "new-name": "Grandma",
            "new-email": "grandma@x.test",
            "new-password": "a-long-enough-passphrase",
        },
        ok=frozenset({200, 302, 410}),
    ),
    "auth.welcome": Entry(("GET",), ANY_USER),
    # account
    "account.sessions_page": Entry(("GET",), ANY_USER),
    "account.end_session": Entry(
        ("POST",), frozenset({"therapist", "admin"}), args=lambda w: {"session_id": w["session"].id}
    ),
    "account.end_other_sessions": Entry(("POST",), ANY_USER),
    "account.change_password": Entry(
        ("GET", "POST"),
        ANY_USER,
        data=lambda w: {
            "current_password": "not-the-password",
            "password": "a-long-enough-passphrase",
            "confirm": "a-long-enough-passphrase",
        },
        ok=frozenset({200, 302, 400}),
    ),
    "account.forgot_password": Entry(
        ("GET", "POST"),
        PUBLIC,
        data=lambda w: {"email": "nobody@x.test"},
        ok=frozenset({200, 400, 503}),
    ),
    "account.reset_password": Entry(
        ("GET", "POST"),
        PUBLIC,
        args=lambda w: {"token": w.tokens["reset"]},
        data=lambda w: {
            "password": "a-long-enough-passphrase",
            "confirm": "a-long-enough-passphrase",
        },
        ok=frozenset({200, 302, 400, 404}),
    ),
    # passkeys
    "passkeys.page": Entry(("GET",), ANY_USER),
    "passkeys.registration_options": Entry(("POST",), ANY_USER, json=True),
    "passkeys.register": Entry(
        ("POST",),
        ANY_USER,
        json=True,
        data=lambda w: {"credential": {"id": "x"}, "name": "Phone"},
        ok=OK | {400},
    ),
    "passkeys.rename": Entry(
        ("POST",),
        frozenset({"therapist"}),
        args=lambda w: {"passkey_id": w["passkey"].id},
        data=lambda w: {"name": "Old phone"},
    ),
    "passkeys.remove": Entry(
        ("POST",), frozenset({"therapist"}), args=lambda w: {"passkey_id": w["passkey"].id}
    ),
    "passkeys.sign_in_options": Entry(("POST",), PUBLIC, json=True),
    "passkeys.sign_in": Entry(
        ("POST",), PUBLIC, json=True, data=lambda w: {"credential": {"id": "x"}}, ok=OK | {401}
    ),
    "passkeys.next_step": Entry(("GET",), PUBLIC),
    "passkeys.next_step_options": Entry(("POST",), PUBLIC, json=True, ok=OK | {400}),
    "passkeys.next_step_verify": Entry(("POST",), PUBLIC, json=True, ok=OK | {400}),
    # admin
    "admin.staff": Entry(("GET",), ADMINS),
    "admin.security": Entry(("GET", "POST"), ADMINS, data=lambda w: {"policy": "none"}),
    "admin.create_invite": Entry(("POST",), ADMINS, data=lambda w: {"label": "New colleague"}),
    "admin.revoke_invite": Entry(
        ("POST",), frozenset({"admin"}), args=lambda w: {"invite_id": w["staff_invite"].id}
    ),
    "admin.deactivate": Entry(
        ("POST",), frozenset({"admin"}), args=lambda w: {"member_id": w["member"].id}
    ),
    "admin.reactivate": Entry(
        ("POST",), frozenset({"admin"}), args=lambda w: {"member_id": w["gone_member"].id}
    ),
    "admin.reset_link": Entry(
        ("POST",), frozenset({"admin"}), args=lambda w: {"member_id": w["member"].id}
    ),
    "admin.audit": Entry(
        ("GET",), ADMINS, query=("child", "user", "action", "date_from", "date_to", "page")
    ),
    "admin.child_data_page": Entry(("GET",), CHILD_STAFF, args=_child),
    "admin.export_child": Entry(("POST",), CHILD_STAFF, args=_child),
    "admin.delete_child": Entry(
        ("POST",), CHILD_STAFF, args=_child, data=lambda w: {"confirm_name": "Maya"}
    ),
    # therapist
    "therapist.caseload": Entry(("GET",), STAFF, query=("q",)),
    "therapist.new_child": Entry(("GET", "POST"), STAFF, data=_child_form),
    "therapist.child": Entry(("GET",), CHILD_STAFF, args=_child),
    "therapist.edit_child": Entry(("GET", "POST"), CHILD_STAFF, args=_child, data=_child_form),
    "therapist.create_invite": Entry(
        ("POST",), CHILD_STAFF, args=_child, data=lambda w: {"role": "teacher", "label": "Ms R"}
    ),
    "therapist.revoke_invite": Entry(
        ("POST",),
        CHILD_STAFF,
        args=lambda w: {"child_id": w["child"].id, "invite_id": w["invite"].id},
    ),
    # programs (therapist)
    "programs.picker": Entry(("GET",), CHILD_STAFF, args=_child, query=("q",)),
    "programs.add_activity_form": Entry(
        ("GET",),
        CHILD_STAFF,
        args=lambda w: {**_child(w), "activity_id": w["activity"].id},
        query=("activity_id",),
    ),
    "programs.add_activity": Entry(("POST",), CHILD_STAFF, args=_child, data=_add_activity),
    "programs.estimate_preview": Entry(("POST",), CHILD_STAFF, args=_child, data=_add_activity),
    "programs.change_activity": Entry(("GET", "POST"), CHILD_STAFF, args=_strategy, data=_change),
    "programs.pause_activity": Entry(("POST",), CHILD_STAFF, args=_strategy, data=_day),
    "programs.resume_activity": Entry(
        ("POST",),
        CHILD_STAFF,
        args=lambda w: {"child_id": w["child"].id, "assignment_id": w["paused"].id},
        data=_day,
    ),
    "programs.end_activity": Entry(("POST",), CHILD_STAFF, args=_strategy, data=_day),
    "programs.create_note": Entry(
        ("POST",), CHILD_STAFF, args=_child, data=lambda w: {"body": "Great week!"}
    ),
    "programs.save_template": Entry(
        ("POST",),
        CHILD_STAFF,
        args=_child,
        data=lambda w: {"name": "Classroom set", "assignment_ids": [str(w["assignment"].id)]},
    ),
    "programs.apply_template": Entry(
        ("POST",),
        CHILD_STAFF,
        args=_child,
        data=lambda w: {
            "apply-start_date": w["today"].isoformat(),
            "apply-template_id": str(w["template"].id),
        },
        ok=frozenset({200, 302, 400}),  # an empty template has nothing to apply
    ),
    "programs.handout": Entry(("GET",), CHILD_STAFF, args=_child),
    "programs.templates": Entry(("GET",), STAFF),
    "programs.template_detail": Entry(("GET",), ORG_A_STAFF, args=_template),
    "programs.rename_template": Entry(
        ("POST",), ORG_A_STAFF, args=_template, data=lambda w: {"name": "Renamed"}
    ),
    "programs.delete_template": Entry(("POST",), ORG_A_STAFF, args=_template),
    # library
    "library.index": Entry(("GET",), STAFF, query=("q", "focus", "age", "classroom")),
    "library.archived": Entry(("GET",), STAFF),
    "library.detail": Entry(("GET",), ORG_A_STAFF, args=_activity),
    "library.new": Entry(("GET", "POST"), STAFF, data=_activity_form),
    "library.duplicate": Entry(("GET", "POST"), ORG_A_STAFF, args=_activity, data=_activity_form),
    "library.edit": Entry(("GET", "POST"), ORG_A_STAFF, args=_activity, data=_activity_form),
    "library.archive": Entry(("POST",), ORG_A_STAFF, args=_activity),
    "library.restore": Entry(("POST",), ORG_A_STAFF, args=_activity),
    "library.upload_picture": Entry(
        ("POST",), ORG_A_STAFF, args=_activity, ok=frozenset({200, 302, 400})
    ),
    "library.remove_picture": Entry(("POST",), ORG_A_STAFF, args=_activity),
    "library.translation": Entry(
        ("GET", "POST"),
        ORG_A_STAFF,
        args=lambda w: {"activity_id": w["activity"].id, "language": "es"},
        data=_translation_form,
        ok=frozenset({200, 302, 400}),
    ),
    "library.remove_translation": Entry(
        ("POST",), ORG_A_STAFF, args=lambda w: {"activity_id": w["activity"].id, "language": "es"}
    ),
    "library.picture": Entry(
        ("GET",),
        ORG_A_STAFF | {"caregiver", "teacher"},
        args=lambda w: {"activity_id": w["activity"].id, "name": w["activity"].picture},
    ),
    "library.illustration": Entry(
        ("GET",), ANY_USER, args=lambda w: {"name": "wall-push-ups", "v": "1"}
    ),
    # therapists' videos
    "media.upload_for_child": Entry(
        ("POST",), CHILD_STAFF, args=_child, ok=frozenset({200, 302, 400})
    ),
    "media.upload_for_activity": Entry(
        ("POST",), ORG_A_STAFF, args=_activity, ok=frozenset({200, 302, 400})
    ),
    "media.status": Entry(("GET",), CHILD_STAFF, args=lambda w: {"clip_id": w["home_clip"].id}),
    "media.delete": Entry(("POST",), CHILD_STAFF, args=lambda w: {"clip_id": w["home_clip"].id}),
    # A classroom activity's clip: the teacher too (a home one is not theirs: test_media).
    "media.video_file": Entry(
        ("GET",), CHILD_STAFF | FAMILY | TEACHER, args=lambda w: {"clip_id": w["classroom_clip"].id}
    ),
    # The custom activity's own clip: like its picture.
    "media.poster": Entry(
        ("GET",),
        ORG_A_STAFF | {"caregiver", "teacher"},
        args=lambda w: {"clip_id": w["library_clip"].id},
    ),
    "media.give_consent": Entry(("POST",), FAMILY, args=_child),
    "admin.export_child_media": Entry(("POST",), CHILD_STAFF, args=_child),
    "media.revoke_consent": Entry(("POST",), FAMILY, args=_child),
    # push and reminders
    "push.devices": Entry(("GET",), ANY_USER),
    "push.subscribe": Entry(
        ("POST",),
        ANY_USER,
        json=True,
        data=lambda w: {
            "subscription": {
                "endpoint": "https://fcm.googleapis.com/fcm/send/new-device",
                "keys": {"p256dh": P256DH, "auth": "MDEyMzQ1Njc4OWFiY2RlZg"},
            },
            "device_name": "Tablet",
        },
        ok=frozenset({201}),
    ),
    "push.remove_device": Entry(
        ("POST",), frozenset({"caregiver"}), args=lambda w: {"subscription_id": w["device"].id}
    ),
    "push.test_notification": Entry(("POST",), ANY_USER),
    "push.public_key": Entry(("GET",), PUBLIC),
    "push.renew": Entry(
        ("POST",),
        PUBLIC,
        json=True,
        data=lambda w: {"old_endpoint": "https://push.invalid/unknown", "subscription": {}},
        ok=frozenset({200, 400, 404}),
    ),
    "push.reminder_settings": Entry(("GET",), CAREGIVERS),
    "push.save_reminders": Entry(
        ("POST",),
        frozenset({"caregiver"}),
        args=_child,
        data=lambda w: {
            f"c{w['child'].id}-time_1": "17:30",
            f"c{w['child'].id}-time_2": "",
            f"c{w['child'].id}-time_3": "",
            f"c{w['child'].id}-days_of_week": ["0", "1", "2"],
            f"c{w['child'].id}-quiet_start": "",
            f"c{w['child'].id}-quiet_end": "",
            f"c{w['child'].id}-enabled": "y",
        },
    ),
    "push.inbox_list": Entry(("GET",), STAFF),
    "push.inbox_message": Entry(
        ("GET",), frozenset({"therapist"}), args=lambda w: {"message_id": w["message"].id}
    ),
    # caregiver
    "caregiver.today": Entry(("GET",), CAREGIVERS, query=("child",)),
    "caregiver.child_today": Entry(("GET",), FAMILY, args=_child, query=("steps", "logs")),
    "caregiver.card": Entry(
        ("GET",),
        FAMILY,
        args=lambda w: {"child_id": w["child"].id, "assignment_id": w["home"].id},
        query=("steps", "logs"),
    ),
    "caregiver.week": Entry(("GET",), FAMILY, args=_child, query=("start",)),
    "caregiver.first_week": Entry(("GET",), CAREGIVERS),
    "caregiver.log_done": Entry(
        ("POST",),
        FAMILY,
        args=_child,
        data=lambda w: {
            "assignment_id": str(w["home"].id),
            "client_id": str(uuid.uuid4()),
            "occurred_at": "",
        },
    ),
    "caregiver.undo": Entry(("POST",), FAMILY, args=_log),
    "caregiver.details": Entry(
        ("GET", "POST"),
        FAMILY,
        args=_log,
        data=lambda w: {
            f"log{w['log'].id}-minutes": "5",
            f"log{w['log'].id}-response": "just_right",
            f"log{w['log'].id}-note": "Went well",
            f"log{w['log'].id}-measure_value": "",
        },
    ),
    "caregiver.dismiss_note": Entry(
        ("POST",), FAMILY, args=lambda w: {"child_id": w["child"].id, "note_id": w["note"].id}
    ),
    "caregiver.settings": Entry(("GET",), ANY_USER),
    "caregiver.create_token": Entry(("POST",), ANY_USER, data=lambda w: {"name": "My script"}),
    "caregiver.revoke_token": Entry(
        ("POST",), FAMILY, args=lambda w: {"token_id": w["api_token"].id}
    ),
    "caregiver.offline": Entry(("GET",), PUBLIC),
    "caregiver.service_worker": Entry(("GET",), PUBLIC),
    "caregiver.web_manifest": Entry(("GET",), PUBLIC),
    # progress, goals, reports
    "progress.dashboard": Entry(("GET",), STAFF),
    "progress.child_progress": Entry(("GET",), CHILD_STAFF, args=_child, query=("start", "end")),
    "progress.new_goal": Entry(("GET", "POST"), CHILD_STAFF, args=_child, data=_goal_form),
    "progress.edit_goal": Entry(("GET", "POST"), CHILD_STAFF, args=_goal, data=_goal_form),
    "progress.goal": Entry(("GET",), CHILD_STAFF, args=_goal),
    "progress.add_measurement": Entry(
        ("POST",),
        CHILD_STAFF,
        args=_goal,
        data=lambda w: {"value": "90", "measured_on": w["today"].isoformat(), "note": "Better"},
    ),
    "progress.rate_gas": Entry(
        ("POST",),
        CHILD_STAFF,
        args=_goal,
        data=lambda w: {"gas_level": "1", "rated_on": w["today"].isoformat(), "note": "Both"},
    ),
    "progress.archive_goal": Entry(("POST",), CHILD_STAFF, args=_goal),
    "assessments.results": Entry(("GET",), CHILD_STAFF, args=_child),
    "fhir.child_bundle": Entry(("GET",), CHILD_STAFF, args=_child),
    "copm.page": Entry(("GET",), CHILD_STAFF, args=_child),
    "my_turn.home": Entry(("GET",), FAMILY, args=_child, query=("done",)),
    "my_turn.activity": Entry(
        ("GET",),
        FAMILY,
        args=lambda w: {"child_id": w["child"].id, "assignment_id": w["home"].id},
    ),
    "my_turn.leave": Entry(("GET", "POST"), FAMILY, args=_child, data=lambda w: {"answer": "0"}),
    "my_turn.setup": Entry(("GET",), FAMILY, args=_child),
    "my_turn.start": Entry(("POST",), FAMILY, args=_child),
    "my_turn.reward": Entry(
        ("POST",), FAMILY, args=_child, data=lambda w: {"prize": "Park trip", "stars_needed": "5"}
    ),
    "my_turn.end_reward": Entry(("POST",), FAMILY, args=_child),
    "my_turn.schedule": Entry(("GET",), FAMILY, args=_child, query=("span", "lang")),
    "levels.apply": Entry(
        ("POST",),
        CHILD_STAFF,
        args=lambda w: {"child_id": w["child"].id, "assignment_id": w["home"].id},
        data=lambda w: {"kind": "easier", "back": "child"},
    ),
    "levels.dismiss": Entry(
        ("POST",), CHILD_STAFF, args=_strategy, data=lambda w: {"kind": "harder", "back": "child"}
    ),
    "levels.settings": Entry(
        ("POST",),
        ADMINS,
        data=lambda w: {
            "level_hard_count": "3",
            "level_hard_window": "4",
            "level_easy_streak": "5",
        },
    ),
    "copm.add_problem": Entry(
        ("POST",),
        CHILD_STAFF,
        args=_child,
        data=lambda w: {"description": "Writing his name", "importance": "7"},
    ),
    "copm.update_problem": Entry(
        ("POST",),
        CHILD_STAFF,
        args=lambda w: {"child_id": w["child"].id, "problem_id": w["copm_problem"].id},
        data=lambda w: {
            f"p{w['copm_problem'].id}-description": "Getting dressed for school",
            f"p{w['copm_problem'].id}-importance": "9",
        },
    ),
    "copm.archive_problem": Entry(
        ("POST",),
        CHILD_STAFF,
        args=lambda w: {"child_id": w["child"].id, "problem_id": w["copm_problem"].id},
    ),
    "copm.record_assessment": Entry(
        ("POST",),
        CHILD_STAFF,
        args=_child,
        data=lambda w: {
            "assessed_on": w["today"].isoformat(),
            "note": "Reassessment at 3 months",
            f"performance_{w['copm_problem'].id}": "6",
            f"satisfaction_{w['copm_problem'].id}": "7",
        },
    ),
    "copm.delete_assessment": Entry(
        ("POST",),
        CHILD_STAFF,
        args=lambda w: {"child_id": w["child"].id, "assessment_id": w["copm_assessment"].id},
    ),
    "api.child_fhir": Entry(("GET",), CHILD_STAFF, args=_child),
    "assessments.add_result": Entry(
        ("POST",),
        CHILD_STAFF,
        args=_child,
        data=lambda w: {
            "instrument_id": str(w["instrument"].id),
            "taken_on": w["today"].isoformat(),
            "score_type": "percentile",
            "value": "50",
            "subtest": "",
            "notes": "",
        },
    ),
    "assessments.delete_result": Entry(
        ("POST",),
        CHILD_STAFF,
        args=lambda w: {"child_id": w["child"].id, "result_id": w["assessment_result"].id},
    ),
    "assessments.instruments_list": Entry(
        ("GET", "POST"), ADMINS, data=lambda w: {"name": "New instrument"}
    ),
    "assessments.rename_instrument": Entry(
        ("POST",),
        frozenset({"admin"}),
        args=lambda w: {"instrument_id": w["instrument"].id},
        data=lambda w: {f"i{w['instrument'].id}-name": "Renamed instrument"},
    ),
    "assessments.archive_instrument": Entry(
        ("POST",), frozenset({"admin"}), args=lambda w: {"instrument_id": w["instrument"].id}
    ),
    "assessments.restore_instrument": Entry(
        ("POST",), frozenset({"admin"}), args=lambda w: {"instrument_id": w["instrument"].id}
    ),
    "progress.report": Entry(("GET", "POST"), CHILD_STAFF, args=_child, data=_range),
    "progress.export_csv": Entry(
        ("GET",),
        CHILD_STAFF,
        args=lambda w: {
            "child_id": w["child"].id,
            "kind": "logs",
            "start": (w["today"] - timedelta(days=6)).isoformat(),
            "end": w["today"].isoformat(),
        },
        query=("start", "end"),
    ),
    "progress.family_goals": Entry(("GET",), FAMILY, args=_child),
    "progress.family_measurement": Entry(
        ("POST",),
        FAMILY,
        args=_goal,
        data=lambda w: {
            f"g{w['goal'].id}-value": "60",
            f"g{w['goal'].id}-measured_on": w["today"].isoformat(),
            f"g{w['goal'].id}-note": "",
        },
    ),
    "progress.answer_barrier": Entry(
        ("POST",), FAMILY, args=_child, data=lambda w: {"reason": "no_time", "note": "Busy week"}
    ),
    # JSON API
    "api_adherence.child_adherence": Entry(
        ("GET",),
        LOGGERS,
        args=lambda w: {
            **_child(w),
            "from": (w["today"] - timedelta(days=6)).isoformat(),
            "to": w["today"].isoformat(),
        },
        query=("from", "to"),
    ),
    "api.openapi": Entry(("GET",), PUBLIC),
    "api.me": Entry(("GET",), ANY_USER),
    "api.children": Entry(("GET",), ANY_USER),
    "api.child_today": Entry(("GET",), LOGGERS, args=_child, query=("date",)),
    "api.child_week": Entry(("GET",), LOGGERS, args=_child, query=("date",)),
    "api.create_log": Entry(
        ("POST",),
        LOGGERS,
        json=True,
        data=lambda w: {
            "client_id": str(uuid.uuid4()),
            "assignment_id": w["home"].id,
            "occurred_at": utcnow().isoformat(),
            "minutes": 5,
            "response": "easy",
            "note": "ok",
        },
        ok=frozenset({200, 201}),
    ),
    "api.get_log": Entry(("GET",), FAMILY, args=lambda w: {"log_id": w["log"].id}),
    "api.update_log": Entry(
        ("PATCH",),
        FAMILY,
        json=True,
        args=lambda w: {"log_id": w["log"].id},
        data=lambda w: {"minutes": 7, "note": "longer", "response": "hard"},
    ),
    "api.delete_log": Entry(("DELETE",), FAMILY, args=lambda w: {"log_id": w["log"].id}),
    # teacher
    "teacher.students": Entry(("GET",), TEACHER),
    "teacher.class_sheet": Entry(("GET",), TEACHER),
    "teacher.student_sheet": Entry(("GET",), TEACHER, args=_child),
    "teacher.mark_used": Entry(
        ("POST",),
        TEACHER,
        args=_strategy,
        data=lambda w: {f"s{w['assignment'].id}-note": "Calmer after"},
    ),
    "teacher.unmark_used": Entry(("POST",), TEACHER, args=_strategy),
}
