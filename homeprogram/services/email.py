"""Plain-text email through the configured SMTP server (``HOMEPROGRAM_SMTP_*``); off if unset."""

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

SMTP_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None
    sender: str

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "SmtpSettings | None":
        """The settings, or None when email is not configured (no host or no From)."""
        host, sender = config.get("SMTP_HOST"), config.get("SMTP_FROM")
        if not host or not sender:
            return None
        return cls(
            host=host,
            port=int(config.get("SMTP_PORT") or 587),
            user=config.get("SMTP_USER") or None,
            password=config.get("SMTP_PASSWORD") or None,
            sender=sender,
        )


def send(settings: SmtpSettings, to: str, subject: str, body: str) -> None:
    """Send one plain-text message; raises ``smtplib.SMTPException``/``OSError`` on failure.

    Port 465 speaks TLS from the start; otherwise STARTTLS is used when the server offers
    it, and credentials are only ever sent over TLS.
    """
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    context = ssl.create_default_context()
    if settings.port == 465:
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT_SECONDS)
    with client:
        client.ehlo()
        secure = settings.port == 465
        if not secure and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
            secure = True
        if settings.user:
            if not secure:
                raise smtplib.SMTPException("refusing to send SMTP credentials without TLS")
            client.login(settings.user, settings.password or "")
        client.send_message(message)
