from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField

from homeprogram import languages


class LanguageForm(FlaskForm):
    language = RadioField(_l("Language"), choices=[])
    next = HiddenField()

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = languages.choices()
