"""Forms of "My turn": the grown-up's jar set-up and the question that leaves the screen.

The rewards service checks the jar's values and words its messages (one place for the
rules); these forms carry the fields and the CSRF token.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Optional

from homeprogram.inputs import IntegerField
from homeprogram.services.rewards import MAX_PRIZE


class RewardForm(FlaskForm):
    prize = StringField(
        _l("What the stars are for"),
        description=_l("Something your family chooses, for example “park trip”."),
        validators=[Optional()],
        render_kw={"maxlength": MAX_PRIZE},
    )
    stars_needed = IntegerField(
        _l("Stars to fill the jar"),
        description=_l("From 1 to 50. Every activity done is one star."),
        validators=[Optional()],
        default=5,
    )


class LeaveForm(FlaskForm):
    """The answer to the sum shown on the page (the page labels the field with the sum)."""

    answer = StringField(validators=[Optional()])
