"""A child's record as a FHIR R4 Bundle, downloaded from the child page."""

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, Response

from homeprogram.access_control import staff_required
from homeprogram.extensions import db
from homeprogram.models import Child
from homeprogram.models.base import utcnow
from homeprogram.services import access, adherence, fhir
from homeprogram.web import actor, child_or_404

bp = Blueprint("fhir", __name__)

MEDIA_TYPE = "application/fhir+json"


def bundle_response(bundle: dict[str, Any], filename: str | None = None) -> Response:
    """The Bundle as ``application/fhir+json``; with a file name, as a download."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'} if filename else {}
    body = json.dumps(bundle, ensure_ascii=False, indent=2)
    return Response(body.encode("utf-8"), mimetype=MEDIA_TYPE, headers=headers)


def export(child: Child, now: datetime, *, via: str) -> dict[str, Any]:
    """The child's Bundle, read in the request's session, and its download audited in a
    write transaction of its own: the reads stay reads (on SQLite a read transaction that
    later writes fails when another request wrote in between, as a token's last use does)."""
    bundle = fhir.child_bundle(db.session, child, now)
    with db.transaction() as w:
        fhir.record_export(w, actor(), child, bundle, via=via)
    return bundle


@bp.get("/children/<int:child_id>/fhir.json")
@staff_required
def child_bundle(child_id: int):
    """The child's record for another system: staff of the child only, audited."""
    child = child_or_404(child_id, access.STAFF_ROLES).child
    now = utcnow()
    bundle = export(child, now, via="page")
    today = adherence.local_today(child.timezone, now)
    return bundle_response(bundle, f"child-{child.id}-fhir-{today.isoformat()}.json")
