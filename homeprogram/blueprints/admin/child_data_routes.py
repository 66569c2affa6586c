"""Per-child data export and deletion (a family's request). Staff of the child only."""

import json

from flask import Response, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from homeprogram.access_control import staff_required
from homeprogram.blueprints.admin.routes import bp
from homeprogram.extensions import db
from homeprogram.services import access, child_data, media, media_storage
from homeprogram.web import actor, child_or_404


class DeleteChildForm(FlaskForm):
    confirm_name = StringField(
        _l("Type the child's name to confirm"),
        validators=[DataRequired(_l("Type the name to confirm.")), Length(max=60)],
    )


@bp.get("/children/<int:child_id>/data")
@staff_required
def child_data_page(child_id: int):
    grant = child_or_404(child_id, access.STAFF_ROLES)
    return render_template("admin/child_data.html", child=grant.child, form=DeleteChildForm())


@bp.post("/children/<int:child_id>/export")
@staff_required
def export_child(child_id: int):
    grant = child_or_404(child_id, access.STAFF_ROLES)
    s = db.session
    document = child_data.export(s, actor(), grant.child)
    s.commit()
    body = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True)
    filename = f"child-{grant.child.id}-export.json"
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.post("/children/<int:child_id>/export/media")
@staff_required
def export_child_media(child_id: int):
    """The child's own video clips (and posters) as one ZIP file, written to a temporary
    file (clips are large) and recorded in the audit trail."""
    grant = child_or_404(child_id, access.STAFF_ROLES)
    s = db.session
    archive = media.export_archive(s, actor(), grant.child, media_storage.storage())
    s.commit()
    return send_file(
        archive,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"child-{grant.child.id}-videos.zip",
    )


@bp.post("/children/<int:child_id>/delete")
@staff_required
def delete_child(child_id: int):
    grant = child_or_404(child_id, access.STAFF_ROLES)
    form = DeleteChildForm()
    s = db.session
    if not form.validate_on_submit() or form.confirm_name.data.strip() != grant.child.display_name:
        if not form.confirm_name.errors:
            form.confirm_name.errors = [_l("The name does not match.")]
        page = render_template("admin/child_data.html", child=grant.child, form=form)
        return page, 400
    name = grant.child.display_name
    clip_keys = media.keys_of_child(s, grant.child.id)
    child_data.delete_child(s, actor(), grant.child)
    s.commit()
    store = media_storage.storage()
    for key in clip_keys:  # its videos' files, now that no row points at them
        store.delete(key)
    flash(gettext("All data about %(name)s was deleted.", name=name), "info")
    return redirect(url_for("therapist.caseload"))
