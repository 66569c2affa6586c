from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from homeprogram.services.children import timezone_names


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
            Email("Enter a valid email address."),
            Length(max=254),
        ],
    )
    password = PasswordField(
        "Password (at least 10 characters)",
        validators=[DataRequired("Choose a password."), Length(max=256)],
    )


class SignupForm(AccountFields):
    org_name = StringField(
        "Clinic or school team",
        validators=[DataRequired("Enter the name of your clinic or school team."), Length(max=200)],
    )
    timezone = SelectField("Time zone", choices=[])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = [SelectChoice(tz) for tz in timezone_names()]


class AcceptInviteForm(AccountFields):
    pass


class ConfirmForm(FlaskForm):
    """A button-only form: CSRF protection is all it carries."""
