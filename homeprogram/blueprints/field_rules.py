"""WTForms validators that apply ``services.validation``'s rules, so a form says what the
service would say and accepts only what the service accepts."""

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from homeprogram.services import validation


def valid_email(_form: Any, field: Field) -> None:
    if problem := validation.email_problem(field.data):
        raise ValidationError(problem)


def valid_timezone(_form: Any, field: Field) -> None:
    if problem := validation.timezone_problem(field.data):
        raise ValidationError(problem)


def _timezone_choices() -> list[SelectChoice]:
    return [SelectChoice(name) for name in validation.timezone_names()]


def timezone_field(label: Any = None) -> SelectField:
    """A select of every time zone, checked by the one rule (not by WTForms' "Not a valid
    choice", which would say less)."""
    return SelectField(
        label or _l("Time zone"),
        choices=_timezone_choices,
        validate_choice=False,
        validators=[valid_timezone],
    )
