"""All models, imported here so that Alembic and the app see one metadata."""

from homeprogram.models.audit import AuditEvent
from homeprogram.models.base import Base
from homeprogram.models.invites import Invite
from homeprogram.models.people import (
    CareRole,
    CareTeamMember,
    Child,
    Organization,
    OrgMembership,
    OrgRole,
    User,
    UserSession,
)
from homeprogram.models.programs import (
    Activity,
    Assignment,
    AssignmentPause,
    CompletionLog,
    FocusArea,
    Response,
    Setting,
)

__all__ = [
    "Activity",
    "Assignment",
    "AssignmentPause",
    "AuditEvent",
    "Base",
    "CareRole",
    "CareTeamMember",
    "Child",
    "CompletionLog",
    "FocusArea",
    "Invite",
    "OrgMembership",
    "OrgRole",
    "Organization",
    "Response",
    "Setting",
    "User",
    "UserSession",
]
