"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what arrives and can answer 4xx/5xx on demand."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import free_port

__all__ = ["MailServer", "Received"]


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        # A folded header starts its value on the next line; clients unfold without the leading space.
        return str(self.message["Subject"]).strip()

    def part(self, content_type: str) -> EmailMessage | None:
        return next((p for p in self.message.walk() if p.get_content_type() == content_type), None)

    def text(self, content_type: str = "text/plain") -> str:
        part = self.part(content_type)
        return part.get_content() if part is not None else ""


class MailServer:
    """`with MailServer() as smtp:` – the server runs in its own thread; `smtp.received` fills as mail arrives."""

    def __init__(self, *, user: str = "", password: str = "", port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[Received] = []
        self.logins: list[str] = []
        self._failures: list[tuple[str, str]] = []  # (stage, answer)
        self._lock = threading.Lock()
        self._credentials = (user, password)
        kwargs = {}
        if user:
            kwargs = {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False}
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self) -> MailServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._controller._thread is not None:  # stopping twice (a test took the server down) is harmless
            self._controller.stop()

    def fail_next(self, stage: str, answer: str, count: int = 1) -> None:
        """Answer the next `count` RCPT or DATA commands with `answer` (e.g. '451 4.7.1 Später erneut');
        DATA with 'TAKE-AND-HANG-UP' keeps the message and drops the connection before answering."""
        with self._lock:
            self._failures += [(stage, answer)] * count

    @property
    def failures_left(self) -> int:
        with self._lock:
            return len(self._failures)

    def _failure(self, stage: str) -> str | None:
        with self._lock:
            for k, (where, answer) in enumerate(self._failures):
                if where == stage:
                    del self._failures[k]
                    return answer
        return None

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(), auth_data.password.decode()) == self._credentials
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        failure = self._failure("RCPT")
        if failure:
            return failure
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        failure = self._failure("DATA")
        if failure and failure != "TAKE-AND-HANG-UP":
            return failure
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self._lock:
            self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        if failure:  # the message is taken, but the answer never reaches the client
            server.transport.abort()
        return "250 Message accepted for delivery"

    def wait_for(self, predicate: Callable[[Received], bool], timeout: float = 10) -> Received:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = next((m for m in self.received if predicate(m)), None)
            if found is not None:
                return found
            time.sleep(0.02)
        raise AssertionError(f"no such mail arrived; got {[m.subject for m in self.received]}")
