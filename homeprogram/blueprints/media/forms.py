from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FileField, SelectField, StringField
from wtforms.validators import Length, Optional


class VideoForm(FlaskForm):
    """A therapist's clip. The file is checked by its content in the background, not here."""

    activity_id = SelectField(_l("Activity"), coerce=int, validate_choice=False)
    title = StringField(
        _l("What the video shows (optional)"),
        validators=[Optional(), Length(max=120)],
        description=_l("For example: “Holding the pencil with the pinch grip”."),
    )
    shows_child = BooleanField(
        _l("The video shows the child"),
        description=_l("Only with the family's consent, which they give in the app."),
    )
    video = FileField(
        _l("Record or choose a video"),
        description=_l(
            "Up to 3 minutes and 300 MB: MP4, MOV (iPhone) or WebM. Location and device "
            "details are removed."
        ),
    )
