from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length


class UsedForm(FlaskForm):
    note = StringField(
        "Short note (optional)",
        validators=[Length(max=200, message="Use at most 200 characters.")],
    )
