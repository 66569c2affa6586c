from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from homeprogram.blueprints.field_rules import timezone_field, valid_email


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email"), validators=[DataRequired(_l("Enter your email.")), Length(max=254)]
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=256)]
    )


class AccountFields(FlaskForm):
    name = StringField(
        _l("Your name"), validators=[DataRequired(_l("Enter your name.")), Length(max=120)]
    )
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(_l("Enter your email.")),
            Length(max=254),
            valid_email,
        ],
    )
    password = PasswordField(
        _l("Password (at least 10 characters)"),
        validators=[DataRequired(_l("Choose a password.")), Length(max=256)],
    )


class SignupForm(FlaskForm):
    """The sign-up request: the password is chosen after the emailed link is followed."""

    org_name = StringField(
        _l("Clinic or school team"),
        validators=[
            DataRequired(_l("Enter the name of your clinic or school team.")),
            Length(max=200),
        ],
    )
    name = AccountFields.name
    email = AccountFields.email
    timezone = timezone_field()


class SignupConfirmForm(FlaskForm):
    password = AccountFields.password


class AcceptInviteForm(AccountFields):
    pass


class ConfirmForm(FlaskForm):
    """A button-only form: CSRF protection is all it carries."""
