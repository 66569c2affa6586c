"""The page shown once after an invite is created: the link and its QR code."""

import segno
from flask import render_template, url_for
from flask_babel import gettext
from markupsafe import Markup, escape

from homeprogram.models import Invite


def qr_svg(url: str) -> Markup:
    """An inline SVG QR code (rendered here: no third-party request, no script)."""
    code = segno.make(url, error="m")
    svg = code.svg_inline(scale=5, border=2, dark="#000", light="#fff", omitsize=False)
    label = escape(gettext("QR code of the invite link"))
    labelled = svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    return Markup(labelled)  # noqa: S704  segno output, no user input


def invite_created_page(invite: Invite, token: str, *, back: str) -> str:
    link = url_for("auth.accept_invite", token=token, _external=True)
    return render_template(
        "invites/created.html", invite=invite, link=link, qr=qr_svg(link), back=back
    )
