from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password (at least 10 characters)",
        validators=[DataRequired("Choose a password."), Length(max=256)],
    )
    confirm = PasswordField(
        "New password again",
        validators=[
            DataRequired("Type the password again."),
            EqualTo("password", "The two passwords are not the same."),
        ],
    )
