"""All models, imported here so that Alembic and the app see one metadata."""

from homeprogram.models.adherence import AdherenceDay
from homeprogram.models.audit import AuditEvent
from homeprogram.models.base import Base
from homeprogram.models.child_screen import LevelSuggestionDismissal, Reward
from homeprogram.models.classroom import ClassroomUse
from homeprogram.models.devices import KnownDevice
from homeprogram.models.goals import Barrier, BarrierReason, Goal, GoalMeasurement, goal_assignment
from homeprogram.models.invites import Invite
from homeprogram.models.media import ClipStatus, MediaClip, VideoConsent
from homeprogram.models.outcomes import (
    AssessmentResult,
    CopmAssessment,
    CopmProblem,
    CopmScore,
    GasRating,
    Instrument,
    ScoreType,
)
from homeprogram.models.passkeys import Passkey, PasskeyChallenge
from homeprogram.models.password_reset import PasswordReset
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
    ActivityTranslation,
    Assignment,
    AssignmentPause,
    CoachingNote,
    CompletionLog,
    FocusArea,
    Level,
    Response,
    Setting,
)
from homeprogram.models.push import (
    AdherenceAlert,
    InboxMessage,
    PushSubscription,
    ReminderDelivery,
    ReminderPlan,
    ReminderPlanning,
)
from homeprogram.models.templates import ProgramTemplate, ProgramTemplateItem
from homeprogram.models.tokens import ApiToken
