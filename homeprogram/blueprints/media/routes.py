"""Therapists' video clips: upload (streamed to storage), progress, watching, deleting;
and the family's consent to clips that show their child."""

import threading
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from homeprogram.access_control import staff_required
from homeprogram.blueprints.auth.forms import ConfirmForm
from homeprogram.blueprints.media.forms import VideoForm
from homeprogram.extensions import db
from homeprogram.models import Activity, Child, MediaClip
from homeprogram.services import access, library, media, media_storage, programs, video
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.upload_request import uploaded_path
from homeprogram.web import actor, apply_errors, render

bp = Blueprint("media", __name__)


# --- For templates ----------------------------------------------------------------------------


@bp.app_template_global()
def clips_for(child_id: int, activity_id: int) -> list[MediaClip]:
    """Ready clips of a child's activity; one query per child and request."""
    cache: dict[int, dict[int, list[MediaClip]]] = g.setdefault("clips_by_child", {})
    if child_id not in cache:
        cache[child_id] = media.clips_by_activity(db.session, child_id)
    return cache[child_id].get(activity_id, [])


@bp.app_template_global()
def clip_reason(code: str | None) -> str:
    return video.reason_text(code) if code else ""


# --- Uploading --------------------------------------------------------------------------------


def _store() -> media_storage.MediaStorage:
    return media_storage.storage()


def _child_for_staff(child_id: int) -> Child:
    try:
        return access.child_access(db.session, current_user.id, child_id, access.STAFF_ROLES).child
    except NotFound:
        abort(404)


def _program_activities(child: Child) -> list[Activity]:
    seen: dict[int, Activity] = {}
    for assignment in programs.child_assignments(db.session, child.id):
        seen.setdefault(assignment.activity_id, assignment.activity)
    return sorted(seen.values(), key=lambda a: a.title.lower())


def child_video_form(child: Child, submitted: bool = False) -> VideoForm:
    """The upload form, filled from the request when ``submitted`` (its file too)."""
    form = VideoForm() if submitted else VideoForm(formdata=None)
    form.activity_id.choices = [(a.id, a.title) for a in _program_activities(child)]
    return form


def _discard_upload(upload: Any) -> None:
    name = uploaded_path(upload)
    if upload is not None and getattr(upload, "stream", None) is not None:
        upload.stream.close()
    if name:
        Path(name).unlink(missing_ok=True)


def _start_processing(clip_id: int) -> None:
    """Transcode now in a thread of this process, or leave it to the scheduler's job."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("MEDIA_WORKER", "thread") != "thread":
        return

    def work() -> None:
        with app.app_context():
            media.process(db.transaction, media_storage.storage(app), clip_id)

    threading.Thread(target=work, name=f"media-clip-{clip_id}", daemon=True).start()


def _receive(child: Child | None, activity: Activity, form: VideoForm) -> MediaClip:
    """Store the streamed upload and record the clip; ValidationFailed keeps nothing."""
    upload = form.video.data
    path = uploaded_path(upload)
    if upload is None or not getattr(upload, "filename", None) or path is None:
        _discard_upload(upload)
        raise ValidationFailed({"video": _("Choose a video to upload.")})
    upload.stream.close()
    size = Path(path).stat().st_size
    new = media.NewClip(
        activity=activity,
        child=child,
        title=form.title.data or "",
        shows_child=bool(form.shows_child.data),
        upload_bytes=size,
    )
    store = _store()
    organization_id = child.organization_id if child is not None else activity.organization_id
    assert organization_id is not None
    key = media_storage.new_key()
    try:
        # Checks first (a refused clip adds nothing), then the file takes the row's key.
        clip = media.add_clip(
            db.session,
            actor(),
            new,
            organization_id=organization_id,
            key=key,
            quota_mb=current_app.config["MEDIA_QUOTA_MB"],
        )
        store.adopt(Path(path), key)
        db.session.commit()
    except BaseException:
        Path(path).unlink(missing_ok=True)
        store.delete(key)
        raise
    return clip


def _upload_page(child: Child | None, activity: Activity | None, form: VideoForm, status: int):
    """The form again with its messages (the upload forms are plain posts: a whole page)."""
    if child is not None:
        clips = media.child_clips(db.session, child.id)
        context = {"child": child, "video_form": form, "clips": clips}
        page = url_for("therapist.child", child_id=child.id)
    else:
        assert activity is not None
        clips = media.activity_clips(db.session, activity.id)
        context = {"activity": activity, "video_form": form, "clips": clips}
        page = url_for("library.detail", activity_id=activity.id)
    return render_template("media/upload_failed.html", back=page, **context), status


def _take(child: Child | None, activity: Activity, form: VideoForm) -> Any | None:
    """Keep the upload and start preparing it; the form again with its messages when the
    clip is refused (None: accepted)."""
    try:
        clip = _receive(child, activity, form)
    except ValidationFailed as failed:
        apply_errors(form, failed.errors)
        return _upload_page(child, activity, form, 400)
    _start_processing(clip.id)
    flash(
        _("The video was uploaded. It is being prepared; the page shows when it is ready."),
        "success",
    )
    return None


@bp.post("/children/<int:child_id>/clips")
@staff_required
def upload_for_child(child_id: int):
    child = _child_for_staff(child_id)
    form = child_video_form(child, submitted=True)
    activities = {a.id: a for a in _program_activities(child)}
    if not form.validate_on_submit() or form.activity_id.data not in activities:
        if form.activity_id.data not in activities:
            form.activity_id.errors = [_("Choose one of the child's activities.")]
        _discard_upload(form.video.data)
        return _upload_page(child, None, form, 400)
    refused = _take(child, activities[form.activity_id.data], form)
    return refused or redirect(url_for("therapist.child", child_id=child.id) + "#videos")


@bp.post("/library/<int:activity_id>/clips")
@staff_required
def upload_for_activity(activity_id: int):
    try:
        activity = library.get_own_custom(db.session, current_user.organization_id, activity_id)
    except NotFound:
        abort(404)
    form = VideoForm()
    if not form.validate_on_submit():
        _discard_upload(form.video.data)
        return _upload_page(None, activity, form, 400)
    refused = _take(None, activity, form)
    return refused or redirect(url_for("library.detail", activity_id=activity.id) + "#videos")


# --- Staff: progress and deleting -------------------------------------------------------------


def _staff_clip(clip_id: int) -> MediaClip:
    try:
        return media.get_clip_for_staff(
            db.session, current_user.id, current_user.organization_id, clip_id
        )
    except NotFound:
        abort(404)


@bp.get("/media/<int:clip_id>/status")
@staff_required
def status(clip_id: int):
    """One clip's row: polled by htmx while it is queued or processing."""
    clip = _staff_clip(clip_id)
    return render("media/clip.html", "media/partials/clip_row.html", clip=clip)


@bp.post("/media/<int:clip_id>/delete")
@staff_required
def delete(clip_id: int):
    clip = _staff_clip(clip_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    key, child_id, activity_id = clip.key, clip.child_id, clip.activity_id
    media.delete_clip(db.session, actor(), clip)
    db.session.commit()
    _store().delete(key)
    flash(_("The video was deleted."), "info")
    if child_id is not None:
        return redirect(url_for("therapist.child", child_id=child_id) + "#videos")
    return redirect(url_for("library.detail", activity_id=activity_id) + "#videos")


# --- Watching ---------------------------------------------------------------------------------


def _send(clip_id: int, kind: str, mimetype: str):
    try:
        clip = media.viewable_clip(db.session, current_user.id, clip_id)
    except NotFound:
        abort(404)
    path = _store().path(clip.key, kind)
    if not path.is_file():
        abort(404)
    starts = request.headers.get("Range", "bytes=0-").replace(" ", "").startswith("bytes=0-")
    if kind == "mp4" and starts and current_user.is_staff:
        # Staff watching a child's clip is a read of the child's record (as the child page
        # is); once per playback, not per range request. Its own write transaction.
        with db.transaction() as w:
            media.audit_clip(w, actor(), "media.viewed", clip)
    # conditional=True answers Range requests with 206, so phones can seek.
    response = send_file(path, mimetype=mimetype, conditional=True, etag=True, max_age=0)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.get("/media/<int:clip_id>/video.mp4")
@login_required
def video_file(clip_id: int):
    return _send(clip_id, "mp4", "video/mp4")


@bp.get("/media/<int:clip_id>/poster.jpg")
@login_required
def poster(clip_id: int):
    return _send(clip_id, "jpg", "image/jpeg")


# --- The family's consent ---------------------------------------------------------------------


def _child_for_caregiver(child_id: int) -> Child:
    try:
        return access.child_access(db.session, current_user.id, child_id, access.FAMILY_ROLES).child
    except NotFound:
        abort(404)


@bp.post("/children/<int:child_id>/video-consent")
@login_required
def give_consent(child_id: int):
    child = _child_for_caregiver(child_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    media.give_consent(db.session, actor(), child)
    db.session.commit()
    flash(
        _(
            "Thank you. Your therapist may now share videos that show %(name)s.",
            name=child.display_name,
        ),
        "success",
    )
    return redirect(url_for("caregiver.settings") + "#videos")


@bp.post("/children/<int:child_id>/video-consent/revoke")
@login_required
def revoke_consent(child_id: int):
    child = _child_for_caregiver(child_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    media.revoke_consent(db.session, actor(), child)
    db.session.commit()
    flash(
        _(
            "Consent withdrawn. Videos that show %(name)s are hidden now and deleted "
            "within the hour.",
            name=child.display_name,
        ),
        "info",
    )
    return redirect(url_for("caregiver.settings") + "#videos")


@bp.app_template_global()
def child_video_section(child: Child) -> dict[str, Any]:
    """What the child page's videos section shows (staff)."""
    return {
        "form": child_video_form(child),
        "clips": media.child_clips(db.session, child.id),
        "consent": media.consent_of(db.session, child.id),
    }


@bp.app_template_global()
def activity_video_section(activity: Activity) -> dict[str, Any]:
    """The custom activity page's videos section (staff of its organisation)."""
    form = VideoForm(formdata=None)
    del form.shows_child
    del form.activity_id
    return {"form": form, "clips": media.activity_clips(db.session, activity.id)}


@bp.app_template_global()
def video_consent(child_id: int) -> Any:
    return media.consent_of(db.session, child_id)
