from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from homeprogram import languages
from homeprogram.blueprints.field_rules import timezone_field
from homeprogram.inputs import DateField, IntegerField
from homeprogram.services.programs import ANCHORS

MONTHS = [
    SelectChoice("1", _l("January")),
    SelectChoice("2", _l("February")),
    SelectChoice("3", _l("March")),
    SelectChoice("4", _l("April")),
    SelectChoice("5", _l("May")),
    SelectChoice("6", _l("June")),
    SelectChoice("7", _l("July")),
    SelectChoice("8", _l("August")),
    SelectChoice("9", _l("September")),
    SelectChoice("10", _l("October")),
    SelectChoice("11", _l("November")),
    SelectChoice("12", _l("December")),
]


def configured_language_or_none(form: FlaskForm, field: SelectField) -> None:
    if field.data and field.data not in languages.supported():
        raise ValidationError(_l("Choose one of the languages."))


class ChildForm(FlaskForm):
    display_name = StringField(
        _l("First name or nickname"),
        validators=[DataRequired(_l("Enter a first name or nickname.")), Length(max=60)],
        description=_l("No surname needed: store the minimum."),
    )
    birth_month = SelectField(_l("Birth month"), coerce=int, choices=MONTHS)
    birth_year = IntegerField(
        _l("Birth year"),
        validators=[
            DataRequired(_l("Enter the year of birth.")),
            NumberRange(1900, 2200, _l("Enter a four-digit year.")),
        ],
    )
    timezone = timezone_field()
    family_language = SelectField(
        _l("The family's language"),
        choices=[],
        # Checked by the rule below: not sent or not recorded (None) is "not recorded".
        validate_choice=False,
        validators=[configured_language_or_none],
        description=_l("Invites, the handout and reminders use it."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.family_language.choices = [("", _l("Not recorded")), *languages.choices()]


class InviteForm(FlaskForm):
    role = SelectField(
        _l("Invite as"),
        choices=[
            SelectChoice("caregiver", _l("Caregiver (parent, family)")),
            SelectChoice("teacher", _l("Teacher")),
        ],
    )
    label = StringField(
        _l("Who is it for? (optional)"),
        validators=[Optional(), Length(max=120)],
        description=_l("For example “Mum” or “Ms Rivera, class 2B”. Only your team sees it."),
    )


def _weekday_choices() -> list[SelectChoice]:
    names = get_locale().days["format"]["wide"] if get_locale() else None
    return [SelectChoice(str(i), names[i] if names else str(i)) for i in range(7)]


class DaysField(SelectMultipleField):
    """Days of the week as checkboxes, Monday=0 as in ``Assignment.days_of_week``."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


ANCHOR_CHOICES = [
    SelectChoice("", _l("Any time of day")),
    SelectChoice("morning", _l("Morning")),
    SelectChoice("after_school", _l("After school")),
    SelectChoice("after_dinner", _l("After dinner")),
    SelectChoice("bath_time", _l("Bath time")),
    SelectChoice("bedtime", _l("Bedtime")),
    SelectChoice("other", _l("Something else (write it below)")),
]


class PrescriptionForm(FlaskForm):
    """The fields shared by adding an activity and changing one."""

    dose_amount = IntegerField(_l("Dose"), validators=[Optional()])
    dose_unit = SelectField(
        _l("Dose counted in"),
        choices=[
            SelectChoice("reps", _l("repetitions")),
            SelectChoice("minutes", _l("minutes")),
            SelectChoice("text", _l("written dose (below)")),
        ],
    )
    dose_text = StringField(
        _l("Written dose"),
        validators=[Optional()],
        description=_l("Only for a written dose, e.g. “two pages” or “until the jar is empty”."),
    )
    minutes_per_session = IntegerField(
        _l("Minutes per session"),
        validators=[Optional()],
        description=_l("Used to estimate the time the program asks of the family."),
    )
    days_of_week = DaysField(_l("Days"), coerce=int, validate_choice=False)
    times_per_day = IntegerField(_l("Times per day"), validators=[Optional()])
    end_date = DateField(_l("Last day (optional)"), validators=[Optional()])
    setting = SelectField(
        _l("Where"),
        choices=[
            SelectChoice("home", _l("Home")),
            SelectChoice("classroom", _l("Classroom")),
            SelectChoice("both", _l("Home and classroom")),
        ],
    )
    anchor = SelectField(
        _l("Routine anchor"),
        choices=ANCHOR_CHOICES,
        description=_l("Tie practice to something the family already does."),
    )
    anchor_other = StringField(_l("Other anchor"), validators=[Optional()])
    caregiver_note = TextAreaField(_l("Note for the caregiver (optional)"))
    measure_name = StringField(
        _l("Measure (optional)"),
        validators=[Optional()],
        description=_l("For example “seconds to put on shoes”."),
    )
    measure_unit = StringField(_l("Unit of the measure"), validators=[Optional()])
    measure_direction = SelectField(
        _l("Better is"),
        choices=[SelectChoice("higher", _l("higher")), SelectChoice("lower", _l("lower"))],
    )
    # Checked by the service (programs.level_errors): the activity must have the variation.
    level = SelectField(
        _l("Level"),
        choices=[
            SelectChoice("easier", _l("Easier")),
            SelectChoice("standard", _l("Standard")),
            SelectChoice("harder", _l("Harder")),
        ],
        validate_choice=False,
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.days_of_week.choices = _weekday_choices()

    def anchor_value(self) -> str:
        if self.anchor.data == "other":
            return self.anchor_other.data or ""
        return self.anchor.data or ""

    def fill_anchor(self, anchor: str) -> None:
        if anchor in ANCHORS or anchor == "":
            self.anchor.data = anchor
        else:
            self.anchor.data, self.anchor_other.data = "other", anchor


class AssignmentForm(PrescriptionForm):
    activity_id = HiddenField()
    start_date = DateField(_l("First day"), validators=[Optional()])
    # Ticked to add an activity the picker warned about (age, small parts, balloons).
    confirm_suitability = BooleanField(_l("I have checked: it suits this child. Add it anyway."))


class ChangeForm(PrescriptionForm):
    effective_date = DateField(
        _l("The change takes effect on"),
        validators=[Optional()],
        description=_l("Days before it keep the old dose and schedule."),
    )


class DayForm(FlaskForm):
    """Pause from a day, resume on a day, or end after a day."""

    day = DateField(_l("Day"), validators=[Optional()])


class NoteForm(FlaskForm):
    body = TextAreaField(
        _l("Note to the family"),
        description=_l("Shown on the family's Today page until they dismiss it."),
    )


class TemplateSaveForm(FlaskForm):
    name = StringField(_l("Template name"), description=_l("For example “Handwriting starter”."))
    assignment_ids = SelectMultipleField(
        _l("Activities to include"), coerce=int, validate_choice=False
    )


class TemplateRenameForm(FlaskForm):
    name = StringField(_l("New name"))


class ApplyTemplateForm(FlaskForm):
    """One button per template (``name="template_id"``), so applying one is a single click."""

    start_date = DateField(_l("Start on"), validators=[Optional()])
    template_id = IntegerField(validators=[Optional()])
