from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from homeprogram.inputs import IntegerField
from homeprogram.models import Assignment, CompletionLog
from homeprogram.services.logs import MAX_MINUTES, MAX_NOTE


class DoneForm(FlaskForm):
    """The one-tap "Done": the card carries the ids, the phone adds the time it was tapped."""

    assignment_id = HiddenField(validators=[DataRequired()])
    client_id = HiddenField(validators=[DataRequired(), Length(max=36)])
    occurred_at = HiddenField(validators=[Optional(), Length(max=40)])


class DetailsForm(FlaskForm):
    """Checks a log's details when they are saved. Pages show them through ``DetailsFields``:
    one WTForms form per log of the day cost the today page about a millisecond each."""

    minutes = IntegerField(
        validators=[
            Optional(),
            NumberRange(0, MAX_MINUTES, _l("Enter whole minutes from 0 to 600.")),
        ],
    )
    # The service checks the value and says so in words.
    response = RadioField(validators=[Optional()], validate_choice=False)
    note = TextAreaField(
        validators=[Optional(), Length(max=MAX_NOTE, message=_l("Keep the note shorter."))],
    )
    measure_value = DecimalField(validators=[Optional()], places=None)


@dataclass(frozen=True, slots=True)
class DetailsLabels:
    """The words of the details form, translated once for all the logs of one activity."""

    minutes: str
    response: str
    choices: tuple[tuple[str, str], ...]
    note: str
    measure: str | None  # the activity's measure and unit; None: no measure field


def details_labels(assignment: Assignment) -> DetailsLabels:
    measure = assignment.measure_name
    if measure and assignment.measure_unit:
        measure = gettext("%(measure)s (%(unit)s)", measure=measure, unit=assignment.measure_unit)
    return DetailsLabels(
        minutes=gettext("Minutes spent"),
        response=gettext("How did it go?"),
        choices=(
            ("easy", gettext("Easy")),
            ("just_right", gettext("Just right")),
            ("hard", gettext("Hard")),
        ),
        note=gettext("Note (optional)"),
        measure=measure or None,
    )


@dataclass(frozen=True, slots=True)
class DetailsFields:
    """One log's details form as shown: the values as stored or as typed, and the messages."""

    prefix: str  # of the fields' names and ids, as ``DetailsForm(prefix=...)`` reads them
    minutes: str
    response: str
    note: str
    measure_value: str
    errors: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @classmethod
    def of_log(cls, log: CompletionLog) -> "DetailsFields":
        """Pre-filled from the log, as the form would be (``DetailsForm(obj=log)``)."""
        return cls(
            prefix=details_prefix(log.id) + "-",
            minutes="" if log.minutes is None else str(log.minutes),
            response=log.response or "",
            note=log.note or "",
            measure_value="" if log.measure_value is None else str(log.measure_value),
        )

    @classmethod
    def of_form(cls, log_id: int, form: DetailsForm) -> "DetailsFields":
        """What was typed, with the messages, after a save that failed."""
        return cls(
            prefix=details_prefix(log_id) + "-",
            minutes=form.minutes._value(),
            response=form.response.data or "",
            note=form.note._value(),
            measure_value=form.measure_value._value(),
            errors={f.short_name: list(f.errors) for f in form if f.errors},
        )


def details_prefix(log_id: int) -> str:
    return f"log{log_id}"


class TokenForm(FlaskForm):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(_l("Give the token a name.")), Length(max=80)],
        description=_l("For example the app or script that will use it."),
    )
