from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from homeprogram.inputs import DateField
from homeprogram.services.barriers import REASONS
from homeprogram.services.goals import GAS_WORDS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RangeForm(FlaskForm):
    """A date range given in the query string (exports)."""

    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[InputRequired(_l("Enter a start date."))])
    end = DateField(_l("To"), validators=[InputRequired(_l("Enter an end date."))])


class ReportForm(FlaskForm):
    start = DateField(_l("From"), validators=[InputRequired(_l("Enter a start date."))])
    end = DateField(_l("To"), validators=[InputRequired(_l("Enter an end date."))])
    comment = TextAreaField(
        _l("Therapist comment (printed on the report, not stored)"),
        validators=[Optional(), Length(max=4000)],
    )


class GoalForm(FlaskForm):
    statement = TextAreaField(
        _l("Goal"),
        validators=[DataRequired(_l("Describe the goal in a sentence.")), Length(max=2000)],
        description=_l("Functional and measurable, e.g. “Sam buttons his coat on his own”."),
    )
    measure = StringField(
        _l("What is measured"),
        validators=[DataRequired(_l("Say what is measured.")), Length(max=120)],
        description=_l("For example “buttons done in 2 minutes”."),
    )
    unit = StringField(_l("Unit (optional)"), validators=[Optional(), Length(max=30)])
    baseline = DecimalField(_l("Baseline"), validators=[InputRequired(_l("Enter a number."))])
    target = DecimalField(_l("Target"), validators=[InputRequired(_l("Enter a number."))])
    target_date = DateField(_l("Target date (optional)"), validators=[Optional()])
    assignment_ids = MultiCheckboxField(_l("Linked activities"), coerce=int, choices=[])
    shared_with_school = BooleanField(_l("Share with the child's teacher"))


class MeasurementForm(FlaskForm):
    value = DecimalField(_l("Value"), validators=[InputRequired(_l("Enter a number."))])
    measured_on = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date."))])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=1000)])


class GasForm(FlaskForm):
    gas_level = RadioField(
        _l("Goal Attainment Scaling"),
        coerce=int,
        choices=[],
        validators=[InputRequired(_l("Choose a level from -2 to +2."))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Built per request: the words are in the reader's language.
        self.gas_level.choices = [
            SelectChoice(level, gettext("%(level)s: %(words)s", level=f"{level:+d}", words=words))
            for level, words in GAS_WORDS.items()
        ]


class BarrierForm(FlaskForm):
    reason = RadioField(
        _l("What got in the way?"),
        choices=[SelectChoice(k, v) for k, v in REASONS.items()],
        validators=[Optional()],
    )
    note = StringField(_l("Anything you want to add (optional)"), validators=[Length(max=500)])
