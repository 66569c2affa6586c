from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import Optional

from homeprogram.inputs import IntegerField


class LevelActionForm(FlaskForm):
    """Apply or dismiss a suggestion: its kind, and the page to return to."""

    kind = HiddenField()  # easier | harder, checked by the service
    back = HiddenField()  # child | dashboard


class LevelSettingsForm(FlaskForm):
    """An organisation's thresholds; services.levels.validate_settings checks the bounds."""

    level_hard_count = IntegerField(
        _l("“Hard” sessions that suggest a step down"),
        validators=[Optional()],
        description=_l("From 1 to 10."),
    )
    level_hard_window = IntegerField(
        _l("…out of the last sessions"),
        validators=[Optional()],
        description=_l("From the number of “hard” sessions to 20."),
    )
    level_easy_streak = IntegerField(
        _l("“Easy” sessions in a row that suggest a step up"),
        validators=[Optional()],
        description=_l("From 2 to 20."),
    )
