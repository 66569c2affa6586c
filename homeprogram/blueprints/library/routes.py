"""The activity library for staff: search, details, custom activities and their pictures."""

from dataclasses import dataclass
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from homeprogram import languages
from homeprogram.access_control import staff_required
from homeprogram.blueprints.auth.forms import ConfirmForm
from homeprogram.blueprints.library.forms import FOCUS_AREA_LABELS, ActivityForm, PictureForm
from homeprogram.extensions import db
from homeprogram.inputs import parse_int
from homeprogram.models import Activity
from homeprogram.services import library, pictures, safety
from homeprogram.services.activity_text import ActivityText, has_language, text_of
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.web import actor, apply_errors, render

bp = Blueprint("library", __name__, url_prefix="/library")

RESULT_LIMIT = 100
AGES = range(library.AGE_MIN, 19)


@bp.app_template_global()
def focus_area_label(value: str) -> str:
    """The readable name of a focus area, for any template that shows activities."""
    label = FOCUS_AREA_LABELS.get(value)
    return str(label) if label is not None else value


@bp.app_template_global()
def activity_safety(activity: Activity) -> safety.Safety:
    """The activity's safety as typed values (templates/partials/safety.html words them)."""
    return safety.of(activity)


@bp.app_template_global()
def activity_text(activity: Activity, language: str | None = None) -> ActivityText:
    """The activity's family-facing text in ``language`` (default: the page's language)."""
    return text_of(activity, language or str(get_locale() or languages.SOURCE))


@bp.app_template_global()
def activity_has_language(activity: Activity, language: str) -> bool:
    return has_language(activity, language)


@bp.app_template_global()
def language_name(code: str) -> str:
    """A language's name in the page's language ("inglés" on a Spanish page)."""
    return languages.name_in_viewer_language(code)


@bp.app_template_global()
def focus_area_note(value: str) -> str:
    """The short evidence note about a focus area, for staff pages."""
    return library.focus_area_note(value)


@bp.app_template_global()
def activity_picture_url(activity: Activity) -> str | None:
    """The picture's URL (it changes with the picture, so it can be cached), or None.

    A custom activity's own photo, else the library's illustration.
    """
    if activity.picture:
        return url_for("library.picture", activity_id=activity.id, name=activity.picture)
    return illustration_url(activity)


@bp.app_template_global()
def illustration_url(activity: Activity, step: int | None = None) -> str | None:
    """A built-in activity's illustration, or the picture of its step ``step`` (1-based)."""
    if not activity.illustration or not activity.slug:
        return None
    if step is not None and not 1 <= step <= len(activity.step_picture_alts or ()):
        return None
    name = activity.slug if step is None else f"{activity.slug}-step-{step}"
    return url_for("library.illustration", name=name, v=activity.illustration)


def _pictures_dir() -> Path:
    return Path(current_app.instance_path) / "pictures"


@dataclass(frozen=True)
class Filters:
    q: str = ""
    focus: str = ""
    age: int | None = None
    classroom: bool = False

    @classmethod
    def from_args(cls) -> "Filters":
        """Read the filters from the query string; values that make no sense are ignored."""
        args = request.args
        focus = args.get("focus", "")
        age = parse_int(args.get("age", ""))
        age = age if age in AGES else None
        return cls(
            q=args.get("q", "")[:100],
            focus=focus if focus in FOCUS_AREA_LABELS else "",
            age=age,
            classroom=args.get("classroom") == "1",
        )

    @property
    def active(self) -> bool:
        return bool(self.q.strip() or self.focus or self.age is not None or self.classroom)


@bp.get("/")
@staff_required
def index():
    filters = Filters.from_args()
    results = library.search(
        db.session,
        current_user.organization_id,
        query=filters.q,
        focus_area=filters.focus or None,
        age=filters.age,
        classroom=True if filters.classroom else None,
        limit=RESULT_LIMIT + 1,
    )
    return render(
        "library/index.html",
        "library/partials/results.html",
        activities=results[:RESULT_LIMIT],
        more=len(results) > RESULT_LIMIT,
        filters=filters,
        focus_areas=FOCUS_AREA_LABELS,
        ages=AGES,
    )


@bp.get("/archived")
@staff_required
def archived():
    return render(
        "library/archived.html",
        activities=library.archived_custom(db.session, current_user.organization_id),
    )


def _visible_or_404(activity_id: int) -> Activity:
    try:
        return library.get_visible(db.session, current_user.organization_id, activity_id)
    except NotFound:
        abort(404)


def _own_or_404(activity_id: int) -> Activity:
    try:
        return library.get_own_custom(db.session, current_user.organization_id, activity_id)
    except NotFound:
        abort(404)


def _detail_page(activity: Activity, picture_form: PictureForm | None = None, status: int = 200):
    based_on = None
    if activity.based_on_id is not None:
        try:
            based_on = library.get_visible(
                db.session, current_user.organization_id, activity.based_on_id
            )
        except NotFound:
            based_on = None
    return render(
        "library/detail.html",
        activity=activity,
        own=activity.organization_id == current_user.organization_id,
        based_on=based_on,
        # formdata=None: these forms are only displayed here, never read from the request.
        picture_form=picture_form or PictureForm(formdata=None),
        confirm=ConfirmForm(formdata=None),
    ), status


@bp.get("/<int:activity_id>")
@staff_required
def detail(activity_id: int):
    return _detail_page(_visible_or_404(activity_id))


def _locale() -> str:
    return current_user.locale or "en"


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new():
    form = ActivityForm()
    return _save_new(form, based_on=None)


@bp.route("/<int:activity_id>/duplicate", methods=["GET", "POST"])
@staff_required
def duplicate(activity_id: int):
    """A new custom activity, prefilled from one the organization can see, to adapt it."""
    source = _visible_or_404(activity_id)
    form = ActivityForm()
    if request.method == "GET":
        form.fill_from(library.ActivityFields.of(source))
    return _save_new(form, based_on=source)


def _save_new(form: ActivityForm, based_on: Activity | None):
    s = db.session
    if form.validate_on_submit():
        try:
            activity = library.create_custom(
                s,
                actor(),
                current_user.organization_id,
                form.values(),
                based_on=based_on,
                language=based_on.language if based_on is not None else _locale(),
            )
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            if based_on is not None and based_on.picture:
                activity.picture = pictures.copy(_pictures_dir(), based_on.picture)
            s.commit()
            flash(_("“%(title)s” was added to your library.", title=activity.title), "success")
            return redirect(url_for("library.detail", activity_id=activity.id))
    status = 400 if form.errors else 200
    return render("library/form.html", form=form, activity=None, based_on=based_on), status


@bp.route("/<int:activity_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(activity_id: int):
    activity = _own_or_404(activity_id)
    form = ActivityForm()
    if request.method == "GET":
        form.fill_from(library.ActivityFields.of(activity))
    s = db.session
    if form.validate_on_submit():
        try:
            library.update_custom(s, actor(), current_user.organization_id, activity, form.values())
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("library.detail", activity_id=activity.id))
    status = 400 if form.errors else 200
    return render("library/form.html", form=form, activity=activity, based_on=None), status


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.post("/<int:activity_id>/archive")
@staff_required
def archive(activity_id: int):
    activity = _own_or_404(activity_id)
    _confirmed()
    library.archive_custom(db.session, actor(), current_user.organization_id, activity)
    db.session.commit()
    flash(
        _(
            "“%(title)s” was archived: it no longer shows in the library, and programs that "
            "use it keep working.",
            title=activity.title,
        ),
        "info",
    )
    return redirect(url_for("library.detail", activity_id=activity.id))


@bp.post("/<int:activity_id>/restore")
@staff_required
def restore(activity_id: int):
    activity = _own_or_404(activity_id)
    _confirmed()
    library.restore_custom(db.session, actor(), current_user.organization_id, activity)
    db.session.commit()
    flash(_("“%(title)s” is back in the library.", title=activity.title), "success")
    return redirect(url_for("library.detail", activity_id=activity.id))


@bp.post("/<int:activity_id>/picture")
@staff_required
def upload_picture(activity_id: int):
    activity = _own_or_404(activity_id)
    form = PictureForm()
    if not form.validate_on_submit():
        return _detail_page(activity, form, 400)
    upload = form.picture.data
    s = db.session
    try:
        if upload is None or not getattr(upload, "filename", None):
            raise ValidationFailed({"picture": pictures.empty()})
        data = pictures.reencode(pictures.read_limited(upload.stream))
    except ValidationFailed as failed:
        apply_errors(form, failed.errors)
        return _detail_page(activity, form, 400)
    name = pictures.store(_pictures_dir(), data)
    try:
        previous = library.set_picture(s, actor(), current_user.organization_id, activity, name)
        s.commit()
    except BaseException:
        pictures.delete(_pictures_dir(), name)
        raise
    pictures.delete(_pictures_dir(), previous)
    flash(_("The picture was saved."), "success")
    return redirect(url_for("library.detail", activity_id=activity.id))


@bp.post("/<int:activity_id>/picture/remove")
@staff_required
def remove_picture(activity_id: int):
    activity = _own_or_404(activity_id)
    _confirmed()
    previous = library.set_picture(
        db.session, actor(), current_user.organization_id, activity, None
    )
    db.session.commit()
    pictures.delete(_pictures_dir(), previous)
    flash(_("The picture was removed."), "info")
    return redirect(url_for("library.detail", activity_id=activity.id))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge):
    # The body is refused before the view runs (MAX_CONTENT_LENGTH); on the picture form,
    # answer with the same field message as a file just over the 5 MB limit. Nothing here
    # may touch request.form or request.files: they would raise again.
    if request.endpoint == "library.upload_picture" and current_user.is_staff:
        activity_id = (request.view_args or {}).get("activity_id", 0)
        try:
            activity = library.get_own_custom(db.session, current_user.organization_id, activity_id)
        except NotFound:
            activity = None
        if activity is not None:
            form = PictureForm(formdata=None)
            form.picture.errors = [pictures.too_large()]
            return _detail_page(activity, form, 413)
    return render_template("error.html", status=413, title=error.name, error=error), 413


@bp.get("/illustrations/<name>.svg")
@login_required
def illustration(name: str):
    """A library illustration (the same for every user: built-in content, no child data)."""
    path = library.illustration_path(name)
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/svg+xml", max_age=0)
    # Versioned URLs (?v=) change with the file; the browser may keep them for a year.
    if request.args.get("v"):
        response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/<int:activity_id>/picture/<name>")
@login_required
def picture(activity_id: int, name: str):
    s = db.session
    activity = s.get(Activity, activity_id)
    if activity is None or activity.picture != name:
        abort(404)
    if not library.can_view_picture(s, current_user.id, activity):
        abort(404)
    path = pictures.path_of(_pictures_dir(), name)
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/webp", max_age=0)
    # The name changes with the picture, so the browser may keep it; never shared caches.
    response.headers["Cache-Control"] = "private, max-age=86400, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


from homeprogram.blueprints.library import translations  # noqa: E402, F401  (its routes)
