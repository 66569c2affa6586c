"""The device cookie: one random value per browser, long-lived, HttpOnly, SameSite=Lax,
Secure over https. Only its hash is stored, per staff member (``services/devices.py``)."""

from datetime import timedelta

from flask import after_this_request, current_app, request
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from homeprogram.models import UserSession
from homeprogram.services import accounts, devices
from homeprogram.services.audit import Actor
from homeprogram.web import client_ip

COOKIE_NAME = "hp_device"
MAX_AGE = timedelta(days=400)  # the longest lifetime browsers keep a cookie for


def note_device(session: Session, login: UserSession) -> None:
    """At sign-in: mark the session when a staff member uses this browser for the first
    time, and (re)set the browser's device cookie for staff."""
    token = request.cookies.get(COOKIE_NAME)
    if not devices.valid_token(token):
        token = devices.new_token()
    member = accounts.membership(session, login.user_id)
    actor = Actor(login.user_id, client_ip(), member.organization_id if member else None)
    if devices.note_sign_in(session, actor, login=login, device_token=token) is None:
        return

    @after_this_request
    def _set_cookie(response: Response) -> Response:
        response.set_cookie(
            COOKIE_NAME,
            token,
            max_age=int(MAX_AGE.total_seconds()),
            httponly=True,
            secure=request.is_secure or bool(current_app.config["SESSION_COOKIE_SECURE"]),
            samesite="Lax",
        )
        return response
