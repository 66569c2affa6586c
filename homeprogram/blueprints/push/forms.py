from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice

from homeprogram.services.reminders import MAX_TIMES

DAYS = [
    SelectChoice(0, _l("Monday")),
    SelectChoice(1, _l("Tuesday")),
    SelectChoice(2, _l("Wednesday")),
    SelectChoice(3, _l("Thursday")),
    SelectChoice(4, _l("Friday")),
    SelectChoice(5, _l("Saturday")),
    SelectChoice(6, _l("Sunday")),
]


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ReminderPlanForm(FlaskForm):
    """One child's plan; the service checks times and quiet hours (one rule for all callers)."""

    time_1 = StringField(_l("Reminder time"), widget=widgets.TimeInput())
    time_2 = StringField(_l("Second time (optional)"), widget=widgets.TimeInput())
    time_3 = StringField(_l("Third time (optional)"), widget=widgets.TimeInput())
    days_of_week = CheckboxesField(_l("Days"), coerce=int, choices=DAYS)
    quiet_start = StringField(
        _l("Quiet hours from"),
        widget=widgets.TimeInput(),
        description=_l("No reminders between these times, e.g. 20:30 to 07:00."),
    )
    quiet_end = StringField(_l("Quiet hours until"), widget=widgets.TimeInput())
    morning_nudge = BooleanField(_l("Morning nudge at 08:00 when nothing was logged yesterday"))
    enabled = BooleanField(_l("Reminders on for this child"))

    def times(self) -> list[str]:
        return [f.data or "" for f in (self.time_1, self.time_2, self.time_3)][:MAX_TIMES]


class EmptyForm(FlaskForm):
    """CSRF only (remove device, test notification, mark read)."""
