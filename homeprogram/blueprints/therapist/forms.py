from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from homeprogram.services.children import timezone_names

MONTHS = [
    (1, "January"),
    (2, "February"),
    (3, "March"),
    (4, "April"),
    (5, "May"),
    (6, "June"),
    (7, "July"),
    (8, "August"),
    (9, "September"),
    (10, "October"),
    (11, "November"),
    (12, "December"),
]


class ChildForm(FlaskForm):
    display_name = StringField(
        "First name or nickname",
        validators=[DataRequired("Enter a first name or nickname."), Length(max=60)],
        description="No surname needed: store the minimum.",
    )
    birth_month = SelectField("Birth month", coerce=int, choices=MONTHS)
    birth_year = IntegerField(
        "Birth year",
        validators=[
            DataRequired("Enter the year of birth."),
            NumberRange(1900, 2200, "Enter a four-digit year."),
        ],
    )
    timezone = SelectField("Time zone", choices=[])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = [(tz, tz) for tz in timezone_names()]


class InviteForm(FlaskForm):
    role = SelectField(
        "Invite as",
        choices=[("caregiver", "Caregiver (parent, family)"), ("teacher", "Teacher")],
    )
    label = StringField(
        "Who is it for? (optional)",
        validators=[Optional(), Length(max=120)],
        description="For example “Mum” or “Ms Rivera, class 2B”. Only your team sees it.",
    )
