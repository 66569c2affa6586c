from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from homeprogram.inputs import DateField, parse_id
from homeprogram.services.assessments import MAX_NOTES, MAX_SUBTEST, SCORE_TYPE_NAMES
from homeprogram.services.instruments import MAX_NAME

_AT_MOST = _l("Use at most %(max)d characters.")


def _optional_id(raw: Any) -> int | None:
    # Any text: a number no row can have, or none, becomes None and the service says
    # "Choose an instrument." (never a database error).
    return parse_id(raw)


class ResultForm(FlaskForm):
    # The choices are the organisation's active list (set by the view); the service checks
    # the instrument, so a stale or foreign id gets its own message.
    instrument_id = SelectField(
        _l("Instrument"), coerce=_optional_id, choices=[], validate_choice=False
    )
    taken_on = DateField(_l("Date given"), validators=[InputRequired(_l("Enter the date."))])
    score_type = SelectField(_l("Score type"), choices=[], validate_choice=False)
    value = DecimalField(
        _l("Value"),
        validators=[InputRequired(_l("Enter the score as a number."))],
        description=_l("Enter an age equivalent in months: 4 years 6 months is 54."),
    )
    subtest = StringField(
        _l("Subtest or index (optional)"),
        validators=[Optional(), Length(max=MAX_SUBTEST, message=_AT_MOST)],
    )
    notes = TextAreaField(
        _l("Notes (optional)"),
        validators=[Optional(), Length(max=MAX_NOTES, message=_AT_MOST)],
        description=_l("Scores and your observations only: no test items or protocol pages."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.score_type.choices = [("", _l("Choose a score type"))] + [
            (kind.value, name) for kind, name in SCORE_TYPE_NAMES.items()
        ]


class InstrumentForm(FlaskForm):
    name = StringField(
        _l("Instrument name"),
        validators=[
            InputRequired(_l("Enter the instrument's name.")),
            Length(max=MAX_NAME, message=_AT_MOST),
        ],
    )
