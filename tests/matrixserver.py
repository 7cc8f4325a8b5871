"""A real Matrix homeserver (Synapse, SQLite) on 127.0.0.1 for the tests, and a plain HTTP client for its users.

One homeserver serves the whole test session (it starts in seconds; its first start makes its signing key).
Accounts are registered with the shared secret, as an operator would with `register_new_matrix_user`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import free_port

__all__ = ["HomeServer", "MatrixUser"]

SHARED_SECRET = "sozialmonitor-test-secret"

_CONFIG = """\
server_name: "localhost"
pid_file: "{folder}/homeserver.pid"
public_baseurl: "http://127.0.0.1:{port}/"
listeners:
  - port: {port}
    bind_addresses: ["127.0.0.1"]
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "{folder}/homeserver.db"
log_config: "{folder}/log.yaml"
media_store_path: "{folder}/media"
signing_key_path: "{folder}/signing.key"
registration_shared_secret: "{secret}"
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
enable_metrics: false
federation_domain_whitelist: []
presence:
  enabled: false
url_preview_enabled: false
caches:
  sync_response_cache_duration: 0  # the tests poll /sync and must see each change at once
rc_message: {{per_second: 1000, burst_count: 1000}}
rc_registration: {{per_second: 1000, burst_count: 1000}}
rc_login:
  address: {{per_second: 1000, burst_count: 1000}}
  account: {{per_second: 1000, burst_count: 1000}}
  failed_attempts: {{per_second: 1000, burst_count: 1000}}
rc_joins:
  local: {{per_second: 1000, burst_count: 1000}}
rc_room_creation: {{per_second: 1000, burst_count: 1000}}
rc_invites:
  per_room: {{per_second: 1000, burst_count: 1000}}
  per_user: {{per_second: 1000, burst_count: 1000}}
"""

_LOG = """\
version: 1
formatters:
  plain:
    format: "%(asctime)s %(levelname)s %(name)s: %(message)s"
handlers:
  file:
    class: logging.FileHandler
    formatter: plain
    filename: "{folder}/homeserver.log"
root:
  level: WARNING
  handlers: [file]
disable_existing_loggers: false
"""


class HomeServer:
    """`with HomeServer(folder) as hs:` – Synapse in a child process, stopped (and waited for) on exit."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = folder / "homeserver.yaml"
        self.proc: subprocess.Popen[bytes] | None = None
        self._admin_token = ""

    def __enter__(self) -> HomeServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config.write_text(_CONFIG.format(folder=self.folder, port=self.port, secret=SHARED_SECRET),
                               encoding="utf-8")
        (self.folder / "log.yaml").write_text(_LOG.format(folder=self.folder), encoding="utf-8")
        subprocess.run([sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config), "--generate-keys"],
                       check=True, capture_output=True, timeout=120)
        out = open(self.folder / "stdout.log", "wb")  # closed below: the child keeps its own copy
        self.proc = subprocess.Popen([sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config)],
                                     stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        out.close()
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Synapse did not start: " + self.log_tail()) from None
                time.sleep(0.2)
        self._admin_token = self.register("hsadmin", admin=True).token
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_tail(self) -> str:
        parts = []
        for name in ("stdout.log", "homeserver.log"):
            path = self.folder / name
            if path.exists():
                parts.append(path.read_text(encoding="utf-8", errors="replace")[-3000:])
        return "\n".join(parts)

    def register(self, localpart: str, *, admin: bool = False) -> MatrixUser:
        """A new account by shared-secret registration (Synapse's admin API, as register_new_matrix_user does)."""
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        with urllib.request.urlopen(endpoint, timeout=10) as response:
            nonce = json.load(response)["nonce"]
        password = uuid.uuid4().hex
        mac = hmac.new(SHARED_SECRET.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode(),
                                 b"admin" if admin else b"notadmin"]))
        body = {"nonce": nonce, "username": localpart, "password": password, "admin": admin, "mac": mac.hexdigest()}
        answer = _request("POST", endpoint, body)
        return MatrixUser(self.url, answer["user_id"], answer["access_token"])

    def limit_messages(self, user_id: str, per_second: float, burst: int) -> None:
        """Give one account a tight message rate limit (admin API), so that the server answers M_LIMIT_EXCEEDED."""
        path = f"/_synapse/admin/v1/users/{urllib.parse.quote(user_id)}/override_ratelimit"
        _request("POST", self.url + path, {"messages_per_second": per_second, "burst_count": burst},
                 token=self._admin_token)

    def unlimit_messages(self, user_id: str) -> None:
        path = f"/_synapse/admin/v1/users/{urllib.parse.quote(user_id)}/override_ratelimit"
        _request("DELETE", self.url + path, None, token=self._admin_token)


def _request(method: str, url: str, body: Any, *, token: str = "") -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        payload = response.read()
    return json.loads(payload) if payload else {}


class MatrixUser:
    """A person's Matrix client, reduced to what the tests do: rooms, messages, invitations."""

    def __init__(self, base: str, user_id: str, token: str) -> None:
        self.base = base
        self.user_id = user_id
        self.token = token

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return _request(method, f"{self.base}/_matrix/client/v3{path}", body, token=self.token)

    def create_room(self, *, invite: list[str] = (), direct: bool = False, name: str = "") -> str:  # type: ignore[assignment]
        body: dict[str, Any] = {"invite": list(invite), "preset": "trusted_private_chat" if direct else "private_chat",
                                "is_direct": direct}
        if name:
            body["name"] = name
        return self.call("POST", "/createRoom", body)["room_id"]

    def join(self, room_id: str) -> None:
        self.call("POST", f"/join/{urllib.parse.quote(room_id)}", {})

    def invite(self, room_id: str, user_id: str) -> None:
        self.call("POST", f"/rooms/{urllib.parse.quote(room_id)}/invite", {"user_id": user_id})

    def say(self, room_id: str, body: str) -> str:
        txn = uuid.uuid4().hex
        path = f"/rooms/{urllib.parse.quote(room_id)}/send/m.room.message/{txn}"
        return self.call("PUT", path, {"msgtype": "m.text", "body": body})["event_id"]

    def messages(self, room_id: str, *, limit: int = 100) -> list[dict[str, Any]]:
        """The room's messages, oldest first."""
        query = urllib.parse.urlencode({"dir": "b", "limit": limit})
        chunk = self.call("GET", f"/rooms/{urllib.parse.quote(room_id)}/messages?{query}")["chunk"]
        return [e for e in reversed(chunk) if e.get("type") == "m.room.message"]

    def invites(self) -> list[str]:
        return list(self.call("GET", "/sync?timeout=0").get("rooms", {}).get("invite", {}))

    def joined_rooms(self) -> list[str]:
        return self.call("GET", "/joined_rooms")["joined_rooms"]

    def wait_for(self, room_id: str, predicate: Callable[[dict[str, Any]], bool], *, sender: str = "",
                 timeout: float = 20) -> dict[str, Any]:
        """The first message in the room (from `sender`) that fits; waits for it."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.messages(room_id):
                if (not sender or event["sender"] == sender) and predicate(event):
                    return event
            if time.monotonic() > deadline:
                seen = [(e["sender"], e["content"].get("body", "")[:80]) for e in self.messages(room_id)]
                raise AssertionError(f"no such message in {room_id}; seen: {seen}")
            time.sleep(0.1)

    def wait_for_invite(self, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            invites = self.invites()
            if invites:
                return invites[0]
            time.sleep(0.1)
        raise AssertionError(f"{self.user_id} got no invitation")
