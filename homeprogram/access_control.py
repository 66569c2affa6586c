"""Route decorators for roles. Denials are 404 so that nothing leaks; anonymous users log in."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required


def _role_required(check: Callable[[Any], bool]) -> Callable[[Callable[..., Any]], Any]:
    def decorator(view: Callable[..., Any]) -> Any:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not check(current_user):
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorator


staff_required = _role_required(lambda user: user.is_staff)
admin_required = _role_required(lambda user: user.is_admin)
caregiver_required = _role_required(lambda user: "caregiver" in user.roles)
teacher_required = _role_required(lambda user: "teacher" in user.roles)
