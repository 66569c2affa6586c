"""Single-use password reset links (admin-issued or requested by email); only the hash is stored."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column

from homeprogram.models.base import Base, utcnow


class PasswordReset(Base):
    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    # "admin": issued by an admin (or the CLI) and handed over; "self": asked for by email.
    kind: Mapped[str] = mapped_column(String(16), default="admin", server_default=text("'admin'"))
