from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import Optional, ValidationError

from homeprogram.inputs import DateField


class AuditFilterForm(FlaskForm):
    """GET filters of the audit page (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    child = SelectField(_l("Child"), choices=[], validators=[Optional()], validate_choice=True)
    user = SelectField(_l("Person"), choices=[], validators=[Optional()], validate_choice=True)
    action = SelectField(_l("Action"), choices=[], validators=[Optional()], validate_choice=True)
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def set_choices(self, choices: dict[str, list[tuple[str, str]]]) -> None:
        for name in ("child", "user", "action"):
            getattr(self, name).choices = [("", _l("Any")), *choices[name]]

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))
