import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from homeprogram.inputs import IntegerField
from homeprogram.models import FocusArea
from homeprogram.models.programs import Supervision
from homeprogram.services.activity_text import TranslationFields
from homeprogram.services.library import ActivityFields
from homeprogram.services.safety import Safety

FOCUS_AREA_LABELS = {
    FocusArea.FINE_MOTOR.value: _l("Fine motor & handwriting"),
    FocusArea.VISUAL_MOTOR.value: _l("Visual-motor & visual perception"),
    FocusArea.GROSS_MOTOR.value: _l("Gross motor & coordination"),
    FocusArea.SELF_CARE.value: _l("Self-care & daily living"),
    FocusArea.SENSORY.value: _l("Sensory and regulation"),
    FocusArea.PLAY_SOCIAL.value: _l("Play & social participation"),
    FocusArea.EXECUTIVE_FUNCTION.value: _l("Executive function & organization"),
}

SUPERVISION_LABELS = {
    Supervision.HANDS_ON.value: _l("Hands on: the adult does it with the child"),
    Supervision.ARMS_REACH.value: _l("Within arm's reach the whole time"),
    Supervision.NEARBY.value: _l("An adult nearby, in the same room"),
    Supervision.CHECK_IN.value: _l("The child works alone; an adult checks after"),
}

# "1.", "2)", "-", "*" or "•" at the start of a pasted line is list markup, not content.
_LIST_MARK = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•])\s+")


def lines(text: str | None) -> tuple[str, ...]:
    """One entry per non-blank line, list markers removed."""
    return tuple(
        _LIST_MARK.sub("", line).strip() for line in (text or "").splitlines() if line.strip()
    )


class ActivityForm(FlaskForm):
    """Content checks (required fields, limits, age order) live in services.library."""

    title = StringField(_l("Title"))
    focus_area = SelectField(
        _l("Focus area"),
        choices=[SelectChoice(value, label) for value, label in FOCUS_AREA_LABELS.items()],
    )
    age_min = IntegerField(
        _l("Youngest age (years)"),
        default=3,
        validators=[InputRequired(_l("Enter an age in years."))],
    )
    age_max = IntegerField(
        _l("Oldest age (years)"),
        default=12,
        validators=[InputRequired(_l("Enter an age in years."))],
    )
    summary = TextAreaField(
        _l("Short summary"), description=_l("One or two sentences: what it is and why it helps.")
    )
    steps = TextAreaField(
        _l("Steps"),
        description=_l("One step per line, in plain words a tired parent can follow."),
    )
    materials = TextAreaField(
        _l("Materials (optional)"), description=_l("One per line; things most homes have.")
    )
    easier = TextAreaField(_l("Easier variation (optional)"))
    harder = TextAreaField(_l("Harder variation (optional)"))
    default_dose = StringField(
        _l("Default dose (optional)"), description=_l("For example “10 push-ups” or “One game”.")
    )
    default_minutes = IntegerField(
        _l("Minutes per session"),
        default=5,
        validators=[InputRequired(_l("Enter the minutes one session takes."))],
    )
    classroom_ok = BooleanField(_l("Suits the classroom"))
    classroom_summary = TextAreaField(
        _l("Classroom summary (optional)"),
        description=_l("For teachers: “the student”, “at the desk”. Shown instead of the summary."),
    )
    classroom_steps = TextAreaField(
        _l("Classroom steps (optional)"),
        description=_l("One step per line, for teachers. Shown instead of the steps."),
    )
    # Safety: what families see as plain sentences on Today, Steps and the handout.
    small_parts = BooleanField(
        _l("Small parts (fit a choking-test cylinder, about 3.2 cm wide: beads, coins, beans)")
    )
    balloons = BooleanField(_l("Uses balloons"))
    supervision = SelectField(
        _l("How close an adult stays"),
        choices=[SelectChoice(value, label) for value, label in SUPERVISION_LABELS.items()],
        default=Supervision.NEARBY.value,
    )
    show_first = BooleanField(_l("Show the family how before they try at home"))
    stop_if = TextAreaField(
        _l("Stop if (optional)"),
        description=_l(
            "One line each, in plain words. “Stop if your child is upset or in pain.” is "
            "always shown."
        ),
    )
    safety_notes = TextAreaField(
        _l("Other safety lines (optional)"), description=_l("One line each, in plain words.")
    )
    rationale = TextAreaField(
        _l("Rationale (optional, staff only)"),
        description=_l("Clinical reasoning and grading, for your team; families do not see it."),
    )

    def fill_from(self, values: ActivityFields) -> None:
        for name in ("title", "focus_area", "age_min", "age_max", "summary", "easier", "harder"):
            getattr(self, name).data = getattr(values, name)
        self.default_dose.data = values.default_dose
        self.default_minutes.data = values.default_minutes
        self.classroom_ok.data = values.classroom_ok
        self.steps.data = "\n".join(values.steps)
        self.materials.data = "\n".join(values.materials)
        self.classroom_summary.data = values.classroom_summary
        self.classroom_steps.data = "\n".join(values.classroom_steps)
        self.small_parts.data = values.safety.small_parts
        self.balloons.data = values.safety.balloons
        self.supervision.data = values.safety.supervision
        self.show_first.data = values.safety.show_first
        self.stop_if.data = "\n".join(values.safety.stop_if)
        self.safety_notes.data = "\n".join(values.safety.notes)
        self.rationale.data = values.rationale

    def values(self) -> ActivityFields:
        return ActivityFields(
            title=self.title.data or "",
            focus_area=self.focus_area.data or "",
            age_min=self.age_min.data,  # type: ignore[arg-type]
            age_max=self.age_max.data,  # type: ignore[arg-type]
            summary=self.summary.data or "",
            steps=lines(self.steps.data),
            materials=lines(self.materials.data),
            easier=self.easier.data or "",
            harder=self.harder.data or "",
            default_dose=self.default_dose.data or "",
            default_minutes=self.default_minutes.data,  # type: ignore[arg-type]
            classroom_ok=bool(self.classroom_ok.data),
            safety=Safety(
                small_parts=bool(self.small_parts.data),
                balloons=bool(self.balloons.data),
                supervision=self.supervision.data or Supervision.NEARBY.value,
                show_first=bool(self.show_first.data),
                stop_if=lines(self.stop_if.data),
                notes=lines(self.safety_notes.data),
            ),
            classroom_summary=self.classroom_summary.data or "",
            classroom_steps=lines(self.classroom_steps.data),
            rationale=self.rationale.data or "",
        )


class PictureForm(FlaskForm):
    # The type is checked by content in services.pictures, not by the file name.
    picture = FileField(
        _l("Choose a picture"),
        validators=[Optional()],
        description=_l("A JPEG, PNG or WebP photo of at most 5 MB. Location data is removed."),
    )


def _lines(text: str | None) -> tuple[str, ...]:
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


class TranslationForm(FlaskForm):
    """A custom activity's text in another language, line for line with the original."""

    title = StringField(_l("Title"))
    summary = TextAreaField(_l("Short summary"))
    steps = TextAreaField(_l("Steps"), description=_l("One step per line, as in the original."))
    materials = TextAreaField(_l("Materials"), description=_l("One per line, as in the original."))
    easier = TextAreaField(_l("Easier variation"))
    harder = TextAreaField(_l("Harder variation"))
    default_dose = StringField(_l("Default dose"))
    stop_if = TextAreaField(_l("Stop if"), description=_l("One line each, as in the original."))
    safety_notes = TextAreaField(
        _l("Other safety lines"), description=_l("One line each, as in the original.")
    )
    classroom_summary = TextAreaField(_l("Classroom summary"))
    classroom_steps = TextAreaField(
        _l("Classroom steps"), description=_l("One step per line, as in the original.")
    )

    def fill_from(self, text: TranslationFields) -> None:
        for name in ("title", "summary", "easier", "harder", "default_dose", "classroom_summary"):
            getattr(self, name).data = getattr(text, name)
        for name in ("steps", "materials", "stop_if", "safety_notes", "classroom_steps"):
            getattr(self, name).data = "\n".join(getattr(text, name))

    def values(self) -> TranslationFields:
        return TranslationFields(
            title=self.title.data or "",
            summary=self.summary.data or "",
            steps=_lines(self.steps.data),
            materials=_lines(self.materials.data),
            easier=self.easier.data or "",
            harder=self.harder.data or "",
            default_dose=self.default_dose.data or "",
            stop_if=_lines(self.stop_if.data),
            safety_notes=_lines(self.safety_notes.data),
            classroom_summary=self.classroom_summary.data or "",
            classroom_steps=_lines(self.classroom_steps.data),
        )
