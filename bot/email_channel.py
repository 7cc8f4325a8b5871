"""E-mail as a channel: one message per person and run, plain text with an HTML alternative, invitations inline.

Sent with aiosmtplib through the `[email]` server; the password only ever comes from SOZIALMONITOR_SMTP_PASSWORD.
SMTP answers map onto the outbox service's guarantees: 4xx and lost connections are retried with backoff, 5xx is a
refusal the admins are told of, and a connection lost after the message was handed over counts as possibly
delivered (a reminder is then not sent twice).
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from typing import TYPE_CHECKING

import aiosmtplib

from commands.mail import subject_of
from commands.texts import text
from storage.models import Person

from .outbox_service import Letter, Part, Refused, RetryLater
from .render import plain_from_html

if TYPE_CHECKING:
    from .workspace import Monitor

__all__ = ["EmailTransport", "build_email"]

log = logging.getLogger("sozialmonitor.email")

_CALENDAR_METHODS = ("REQUEST", "CANCEL", "PUBLISH")


def _method(calendar: str) -> str:
    for line in calendar.splitlines():
        if line.upper().startswith("METHOD:"):
            value = line.split(":", 1)[1].strip().upper()
            if value in _CALENDAR_METHODS:
                return value
    return "PUBLISH"


def build_email(letter: Letter, *, sender: str, to: str, name: str = "", lang: str = "de",
                tag: str = "") -> EmailMessage:
    """The e-mail of one letter to one person: German subject, plain text, HTML alternative, invitation."""
    plain = "\n".join(plain_from_html(t) for t in letter.texts)
    subject = subject_of(lang, letter.kind, plain, letter.subject)
    footer = text(lang, "mail.footer")
    body = "<br>\n".join("<br>\n".join(t.split("\n")) for t in letter.texts)
    page = (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(subject)}</title>'
            f'</head>\n<body style="font-family: Arial, sans-serif; font-size: 11pt;">\n<p>{body}</p>\n'
            f'<p style="color: #666666; font-size: 9pt;">{html.escape(footer)}</p>\n</body></html>\n')
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = formataddr((name, to)) if name else to
    message["Date"] = formatdate(localtime=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "sozialmonitor"
    # A message sent again after a lost answer keeps its Message-ID: mail clients show it once.
    message["Message-ID"] = f"<{tag}@{domain}>" if re.fullmatch(r"[\w.-]+", tag) else make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies are not sent back to it
    message.set_content(f"{plain}\n\n-- \n{footer}\n")
    message.add_alternative(page, subtype="html")
    if letter.calendar:
        # RFC 6047 (iMIP): the invitation is the last alternative, with its METHOD; Outlook shows it as a meeting.
        message.add_alternative(letter.calendar, subtype="calendar", params={"method": _method(letter.calendar)})
    for attachment in letter.attachments:
        maintype, _, subtype = (attachment.mime or "application/octet-stream").partition("/")
        message.add_attachment(attachment.data, maintype=maintype, subtype=subtype.split(";")[0] or "octet-stream",
                               filename=attachment.filename)
    return message


class EmailTransport:
    """The outbox service's SMTP wire: one connection per message (robust against idle timeouts)."""

    channel = "email"
    idempotent = False
    catch_all = False

    def __init__(self, monitor: Monitor, *, timeout: float = 30.0, per_second: float = 5.0) -> None:
        self.monitor = monitor
        self.timeout = timeout
        self.per_second = per_second

    def address(self, person: Person) -> str | None:
        return person.email or None

    def group_addresses(self, recipient: str) -> list[str]:
        return []

    def limits(self, address: str) -> Sequence[tuple[float, float]]:
        return ()

    def overall(self) -> tuple[float, float]:
        return self.per_second, 1.0

    def parts(self, letter: Letter) -> list[Part]:
        return [letter]  # one e-mail carries the whole message

    async def wait_ready(self) -> None:
        return None

    def _name_of(self, address: str) -> str:
        for person in self.monitor.catalogue.persons:
            if person.email and person.email.casefold() == address.casefold():
                return person.name
        return ""

    async def send(self, address: str, part: Part, letter: Letter, tag: str) -> str | None:
        settings = self.monitor.settings.email
        message = build_email(letter, sender=settings.sender, to=address, name=self._name_of(address),
                              lang=self.monitor.settings.language, tag=tag)
        security = settings.security
        try:
            await aiosmtplib.send(
                message, sender=parseaddr(settings.sender)[1], recipients=[address], hostname=settings.host,
                port=settings.port, username=settings.user or None,
                password=(settings.password or None) if settings.user else None,
                use_tls=security == "ssl", start_tls=security == "starttls", timeout=self.timeout)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            _raise_for(codes[0] if codes else 550, "SMTPRecipientsRefused")
        except aiosmtplib.SMTPResponseException as exc:
            _raise_for(exc.code, type(exc).__name__)
        except aiosmtplib.SMTPConnectError as exc:  # nothing was handed over
            raise RetryLater(type(exc).__name__) from None
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError) as exc:
            # The connection broke mid-dialogue: perhaps after the server took the message.
            raise RetryLater(type(exc).__name__, maybe_delivered=True) from None
        except aiosmtplib.SMTPException as exc:  # e.g. STARTTLS not supported: a setting to fix
            raise Refused(type(exc).__name__) from None
        except OSError as exc:
            raise RetryLater(type(exc).__name__) from None
        return None


def _raise_for(code: int, what: str) -> None:
    """SMTP 4xx: try again later (greylisting, a full queue, rate limits); 5xx: refused for good."""
    if 400 <= code < 500:
        raise RetryLater(f"{what} {code}")
    raise Refused(f"{what} {code}")
