from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length


class UsedForm(FlaskForm):
    note = StringField(
        _l("Short note (optional)"),
        validators=[Length(max=200, message=_l("Use at most 200 characters."))],
    )
