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

    start = DateField("From", validators=[InputRequired("Enter a start date.")])
    end = DateField("To", validators=[InputRequired("Enter an end date.")])


class ReportForm(FlaskForm):
    start = DateField("From", validators=[InputRequired("Enter a start date.")])
    end = DateField("To", validators=[InputRequired("Enter an end date.")])
    comment = TextAreaField(
        "Therapist comment (printed on the report, not stored)",
        validators=[Optional(), Length(max=4000)],
    )


class GoalForm(FlaskForm):
    statement = TextAreaField(
        "Goal",
        validators=[DataRequired("Describe the goal in a sentence."), Length(max=2000)],
        description="Functional and measurable, e.g. “Sam buttons his coat on his own”.",
    )
    measure = StringField(
        "What is measured",
        validators=[DataRequired("Say what is measured."), Length(max=120)],
        description="For example “buttons done in 2 minutes”.",
    )
    unit = StringField("Unit (optional)", validators=[Optional(), Length(max=30)])
    baseline = DecimalField("Baseline", validators=[InputRequired("Enter a number.")])
    target = DecimalField("Target", validators=[InputRequired("Enter a number.")])
    target_date = DateField("Target date (optional)", validators=[Optional()])
    assignment_ids = MultiCheckboxField("Linked activities", coerce=int, choices=[])
    shared_with_school = BooleanField("Share with the child's teacher")


class MeasurementForm(FlaskForm):
    value = DecimalField("Value", validators=[InputRequired("Enter a number.")])
    measured_on = DateField("Date", validators=[InputRequired("Enter the date.")])
    note = StringField("Note (optional)", validators=[Optional(), Length(max=1000)])


class GasForm(FlaskForm):
    gas_level = RadioField(
        "Goal Attainment Scaling",
        coerce=int,
        choices=[SelectChoice(level, f"{level:+d}: {words}") for level, words in GAS_WORDS.items()],
        validators=[InputRequired("Choose a level from -2 to +2.")],
    )


class BarrierForm(FlaskForm):
    reason = RadioField(
        "What got in the way?",
        choices=[SelectChoice(k, v) for k, v in REASONS.items()],
        validators=[Optional()],
    )
    note = StringField("Anything you want to add (optional)", validators=[Length(max=500)])
