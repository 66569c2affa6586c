"""COPM forms. The rules (1-10, at most five problems, no future date) live in the service,
which names the problem in each message; these forms only carry the values."""

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Optional

from homeprogram.inputs import DateField, IntegerField
from homeprogram.models import CopmProblem


class RatingField(IntegerField):
    """A rating 1-10. Text that is no whole number reaches the service as None, which says
    which problem needs a rating from 1 to 10 (instead of "Not a valid integer value")."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None


class ProblemForm(FlaskForm):
    description = StringField(
        _l("Problem, in the family's words"),
        description=_l("For example “getting dressed for school in the morning”."),
    )
    importance = RatingField(_l("Importance to the family (1–10)"))


class AssessmentForm(FlaskForm):
    """The date, a note, and ``performance_<id>`` / ``satisfaction_<id>`` for each current
    problem (added by ``assessment_form``)."""

    assessed_on = DateField(_l("Date of the assessment"), validators=[Optional()])
    note = TextAreaField(_l("Note (optional)"))


def assessment_form(problems: Sequence[CopmProblem], **kwargs: Any) -> AssessmentForm:
    """An assessment form with two ratings per current problem."""

    class Form(AssessmentForm):
        pass

    for p in problems:
        setattr(Form, f"performance_{p.id}", RatingField(_l("Performance (1–10)")))
        setattr(Form, f"satisfaction_{p.id}", RatingField(_l("Satisfaction (1–10)")))
    return Form(**kwargs)


def ratings(form: AssessmentForm, problems: Sequence[CopmProblem]) -> dict[int, tuple[Any, Any]]:
    return {
        p.id: (form[f"performance_{p.id}"].data, form[f"satisfaction_{p.id}"].data)
        for p in problems
    }
