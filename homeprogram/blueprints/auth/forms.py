from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from homeprogram.blueprints.field_rules import timezone_field, valid_email


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=254)])
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=256)]
    )


class AccountFields(FlaskForm):
    name = StringField("Your name", validators=[DataRequired("Enter your name."), Length(max=120)])
    email = EmailField(
        "Email",
        validators=[
            DataRequired("Enter your email."),
            Length(max=254),
            valid_email,
        ],
    )
    password = PasswordField(
        "Password (at least 10 characters)",
        validators=[DataRequired("Choose a password."), Length(max=256)],
    )


class SignupForm(FlaskForm):
    """The sign-up request: the password is chosen after the emailed link is followed."""

    org_name = StringField(
        "Clinic or school team",
        validators=[DataRequired("Enter the name of your clinic or school team."), Length(max=200)],
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
