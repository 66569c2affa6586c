from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from homeprogram.services.passkeys import NAME_MAX


class PasskeyNameForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Enter a name for this passkey.")), Length(max=NAME_MAX)],
    )


class NewPasskeyForm(FlaskForm):
    """Only the name is a field: the passkey itself is made by the browser (passkey.js)."""

    name = StringField(
        _l("Name for the new passkey (optional)"),
        validators=[Length(max=NAME_MAX)],
        description=_l("For example the device it is on: “Work laptop”, “My phone”."),
    )


class PasskeyPolicyForm(FlaskForm):
    policy = RadioField(
        _l("Staff sign-in"),
        choices=[
            SelectChoice("none", _l("Password (passkeys optional)")),
            SelectChoice("second_factor", _l("Password, then a passkey")),
            SelectChoice("required", _l("Passkey only: no password sign-in")),
        ],
        validators=[InputRequired(_l("Choose one of the options."))],
    )
