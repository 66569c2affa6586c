from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional


class StaffInviteForm(FlaskForm):
    label = StringField(
        _l("Who is it for? (optional)"),
        validators=[Optional(), Length(max=120)],
        description=_l("For example the colleague's name. Only your organization sees it."),
    )
