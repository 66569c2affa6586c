from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from homeprogram.services.children import timezone_names

MONTHS = [
    SelectChoice("1", "January"),
    SelectChoice("2", "February"),
    SelectChoice("3", "March"),
    SelectChoice("4", "April"),
    SelectChoice("5", "May"),
    SelectChoice("6", "June"),
    SelectChoice("7", "July"),
    SelectChoice("8", "August"),
    SelectChoice("9", "September"),
    SelectChoice("10", "October"),
    SelectChoice("11", "November"),
    SelectChoice("12", "December"),
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
        self.timezone.choices = [SelectChoice(tz) for tz in timezone_names()]


class InviteForm(FlaskForm):
    role = SelectField(
        "Invite as",
        choices=[
            SelectChoice("caregiver", "Caregiver (parent, family)"),
            SelectChoice("teacher", "Teacher"),
        ],
    )
    label = StringField(
        "Who is it for? (optional)",
        validators=[Optional(), Length(max=120)],
        description="For example “Mum” or “Ms Rivera, class 2B”. Only your team sees it.",
    )
