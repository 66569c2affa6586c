"""What the family's pages (Today, "My turn") share: the child a caregiver may open, the
child's today, and an activity's picture as this person may see it."""

from datetime import date

from flask_login import current_user

from homeprogram.blueprints.library.routes import activity_picture_url
from homeprogram.extensions import db
from homeprogram.models import Activity, Child
from homeprogram.models.base import utcnow
from homeprogram.services import access, library
from homeprogram.services.schedule import local_date
from homeprogram.web import child_or_404


def family_child(child_id: int) -> Child:
    return child_or_404(child_id, access.FAMILY_ROLES).child


def child_today(child: Child) -> date:
    return local_date(utcnow(), child.timezone)


def picture_url(activity: Activity) -> str | None:
    """The activity's picture, when there is one this user may see."""
    if activity.picture and not library.can_view_picture(db.session, current_user.id, activity):
        return None
    return activity_picture_url(activity)
