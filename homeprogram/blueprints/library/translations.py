"""A custom activity's versions in other languages, written by the therapist (never machine
translated). Built-in activities ship theirs in the data files."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from homeprogram import languages
from homeprogram.access_control import staff_required
from homeprogram.blueprints.library.forms import TranslationForm
from homeprogram.blueprints.library.routes import _confirmed, _own_or_404, bp
from homeprogram.extensions import db
from homeprogram.models import Activity
from homeprogram.services import activity_text
from homeprogram.services.activity_text import TranslationFields
from homeprogram.services.errors import ValidationFailed
from homeprogram.web import actor, apply_errors, render


def _other_language_or_404(activity: Activity, language: str) -> str:
    code = languages.supported_or_none(language)
    if code is None or code == activity.language:
        abort(404)
    return code


@bp.route("/<int:activity_id>/translations/<language>", methods=["GET", "POST"])
@staff_required
def translation(activity_id: int, language: str):
    activity = _own_or_404(activity_id)
    code = _other_language_or_404(activity, language)
    existing = activity_text.translation_in(activity, code)
    form = TranslationForm()
    if request.method == "GET" and existing is not None:
        form.fill_from(TranslationFields.of(existing))
    s = db.session
    if form.validate_on_submit():
        try:
            activity_text.save_translation(s, actor(), activity, code, form.values())
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            name = languages.name_in_viewer_language(code)
            flash(_("The %(language)s version was saved.", language=name), "success")
            return redirect(url_for("library.detail", activity_id=activity.id))
    status = 400 if form.errors else 200
    return render(
        "library/translation_form.html",
        form=form,
        activity=activity,
        language=code,
        existing=existing,
        original=activity_text.text_of(activity, activity.language),
    ), status


@bp.post("/<int:activity_id>/translations/<language>/remove")
@staff_required
def remove_translation(activity_id: int, language: str):
    activity = _own_or_404(activity_id)
    code = _other_language_or_404(activity, language)
    _confirmed()
    s = db.session
    if activity_text.remove_translation(s, actor(), activity, code):
        s.commit()
        name = languages.name_in_viewer_language(code)
        flash(_("The %(language)s version was removed.", language=name), "info")
    return redirect(url_for("library.detail", activity_id=activity.id))
