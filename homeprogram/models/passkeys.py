"""Passkeys (WebAuthn credentials) and the one-time challenges of their ceremonies."""

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from homeprogram.models.base import Base, utcnow
from homeprogram.models.people import User


class Passkey(Base):
    """A credential a person registered; only its public key is stored."""

    __tablename__ = "passkey"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    # base64url of the credential id (at most 1023 bytes, so 1364 characters).
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    # The WebAuthn user handle the authenticator keeps: random-looking, never the row id.
    user_handle: Mapped[bytes] = mapped_column(LargeBinary(64))
    sign_count: Mapped[int] = mapped_column(default=0)
    transports: Mapped[str] = mapped_column(String(200), default="")
    name: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class PasskeyChallenge(Base):
    """A ceremony's challenge, kept on the server: used once, within minutes.

    The browser's cookie holds only ``handle``; deleting the row is what uses it up.
    """

    __tablename__ = "passkey_challenge"

    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(String(64), unique=True)
    challenge: Mapped[bytes] = mapped_column(LargeBinary(64))
    purpose: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column(index=True)
