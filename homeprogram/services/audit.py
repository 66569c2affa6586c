"""Writing the audit trail. Rows are only ever added."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from homeprogram.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who is acting and from where; the web layer builds it from the request."""

    user_id: int | None
    ip: str | None = None
    organization_id: int | None = None


SYSTEM = Actor(user_id=None, ip=None)


# A plain INSERT, sent at once: an audit row is never read back or changed in the
# request that writes it, so it needs none of the ORM's bookkeeping.
_INSERT = insert(AuditEvent.__table__)


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    organization_id: int | None = None,
    child_id: int | None = None,
    target_type: str | None = None,
    target_id: int | None = None,
    **detail: Any,
) -> None:
    session.execute(
        _INSERT,
        {
            "action": action,
            "actor_id": actor.user_id,
            "organization_id": (
                organization_id if organization_id is not None else actor.organization_id
            ),
            "child_id": child_id,
            "target_type": target_type,
            "target_id": target_id,
            "ip": actor.ip,
            "detail": detail,
        },
    )
