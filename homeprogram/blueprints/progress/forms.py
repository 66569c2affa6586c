from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from homeprogram import languages
from homeprogram.inputs import DateField
from homeprogram.services.barriers import REASONS
from homeprogram.services.gas import BASELINE_LEVELS, WORDS


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
    language = SelectField(
        _l("Language of the report"),
        choices=[],
        validate_choice=False,  # an unknown language prints in the reader's own
        description=_l("The family's language when the report is for them."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = languages.choices()


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
    # Goal Attainment Scaling: what each level would look like for this child (-2 first).
    gas_0 = TextAreaField(_l("−2: much less than expected"), validators=[Length(max=500)])
    gas_1 = TextAreaField(_l("−1: somewhat less than expected"), validators=[Length(max=500)])
    gas_2 = TextAreaField(_l("0: expected level (the goal)"), validators=[Length(max=500)])
    gas_3 = TextAreaField(_l("+1: somewhat more than expected"), validators=[Length(max=500)])
    gas_4 = TextAreaField(_l("+2: much more than expected"), validators=[Length(max=500)])
    gas_baseline = RadioField(
        _l("Where the child is today"),
        coerce=int,
        choices=[],
        validators=[Optional()],
        description=_l("Usually −1; −2 when nothing worse is possible."),
    )
    gas_weight = DecimalField(
        _l("Weight (optional)"),
        validators=[Optional()],
        description=_l("Leave empty to weigh all goals the same, or e.g. importance × difficulty."),
    )
    baseline_result_id = SelectField(
        _l("Baseline assessment result (optional)"), coerce=int, choices=[], validate_choice=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gas_baseline.choices = [
            SelectChoice(
                level, gettext("%(level)s: %(words)s", level=f"{level:+d}", words=WORDS[level])
            )
            for level in BASELINE_LEVELS
        ]

    def gas_fields(self) -> list[Any]:
        return [self.gas_0, self.gas_1, self.gas_2, self.gas_3, self.gas_4]


class MeasurementForm(FlaskForm):
    value = DecimalField(_l("Value"), validators=[InputRequired(_l("Enter a number."))])
    measured_on = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date."))])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=1000)])


class GasForm(FlaskForm):
    """A follow-up rating: the level the goal reached on a day."""

    gas_level = RadioField(
        _l("Level reached"),
        coerce=int,
        choices=[],
        validators=[InputRequired(_l("Choose a level from -2 to +2."))],
    )
    rated_on = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date."))])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=1000)])

    def __init__(self, *args: Any, levels: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Built per request: the words are in the reader's language; the goal's own
        # description of each level follows.
        texts = levels if levels and len(levels) == 5 else [""] * 5
        self.gas_level.choices = [
            SelectChoice(
                level,
                gettext("%(level)s: %(words)s", level=f"{level:+d}", words=words)
                + (f" — {text}" if text else ""),
            )
            for (level, words), text in zip(WORDS.items(), texts, strict=True)
        ]


class BarrierForm(FlaskForm):
    reason = RadioField(
        _l("What got in the way?"),
        choices=[SelectChoice(k, v) for k, v in REASONS.items()],
        validators=[Optional()],
    )
    note = StringField(_l("Anything you want to add (optional)"), validators=[Length(max=500)])
