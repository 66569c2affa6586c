from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from homeprogram.services.logs import MAX_MINUTES, MAX_NOTE


class DoneForm(FlaskForm):
    """The one-tap "Done": the card carries the ids, the phone adds the time it was tapped."""

    assignment_id = HiddenField(validators=[DataRequired()])
    client_id = HiddenField(validators=[DataRequired(), Length(max=36)])
    occurred_at = HiddenField(validators=[Optional(), Length(max=40)])


class DetailsForm(FlaskForm):
    minutes = IntegerField(
        _l("Minutes spent"),
        validators=[
            Optional(),
            NumberRange(0, MAX_MINUTES, _l("Enter whole minutes from 0 to 600.")),
        ],
    )
    response = RadioField(
        _l("How did it go?"),
        choices=[
            SelectChoice("easy", _l("Easy")),
            SelectChoice("just_right", _l("Just right")),
            SelectChoice("hard", _l("Hard")),
        ],
        validators=[Optional()],
        validate_choice=False,  # the service checks the value and says so in words
    )
    note = TextAreaField(
        _l("Note (optional)"),
        validators=[Optional(), Length(max=MAX_NOTE, message=_l("Keep the note shorter."))],
    )
    measure_value = DecimalField(_l("Measure"), validators=[Optional()], places=None)


class TokenForm(FlaskForm):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(_l("Give the token a name.")), Length(max=80)],
        description=_l("For example the app or script that will use it."),
    )
