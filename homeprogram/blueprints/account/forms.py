from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from homeprogram.blueprints.field_rules import valid_email


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password (at least 10 characters)"),
        validators=[DataRequired(_l("Choose a password.")), Length(max=256)],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Type the password again.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
    )


class ChangePasswordForm(ResetPasswordForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), Length(max=256)],
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Your email"),
        validators=[DataRequired(_l("Enter your email.")), Length(max=254), valid_email],
    )
