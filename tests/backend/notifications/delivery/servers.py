"""The receivers the delivery tests send to, run by the tests on loopback: a real SMTP server (aiosmtpd) and an
HTTP stub playing the SMS gateway and the WeCom/DingTalk robots (another party's server: the one thing we
cannot run). Both record every arrival as it came (raw), so a test sees duplicates if any."""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpRecorder:
    """aiosmtpd handler: every message accepted, in arrival order."""

    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        with self.lock:
            self.messages.append(message_from_bytes(content))
        return "250 Message accepted for delivery"

    def message_ids(self) -> Counter[str]:
        with self.lock:
            return Counter(str(message["Message-ID"]) for message in self.messages)


class SmtpServer:
    def __init__(self) -> None:
        self.recorder = SmtpRecorder()
        self.port = free_port()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.controller.stop()


@dataclass
class HttpArrival:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes


class GatewayStub:
    """POST /sms: the SMS gateway contract (bearer token; a repeated `request_id` is acknowledged, not sent
    again); POST /wecom and /dingtalk: the robots (errcode 0). Every arrival is recorded raw."""

    def __init__(self, token: str = "gateway-token") -> None:
        self.token = token
        self.arrivals: list[HttpArrival] = []
        self.sent_sms: Counter[str] = Counter()  # request_id -> times actually sent to a phone (1 by contract)
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                parts = urlsplit(self.path)
                arrival = HttpArrival(parts.path, parse_qs(parts.query), dict(self.headers), json.loads(raw), raw)
                status, answer = stub.answer(arrival)
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, arrival: HttpArrival) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.arrivals.append(arrival)
            if arrival.path == "/sms":
                if arrival.headers.get("Authorization") != f"Bearer {self.token}":
                    return 401, {"error": "bad token"}
                request_id = arrival.body["request_id"]
                if self.sent_sms[request_id] == 0:
                    self.sent_sms[request_id] += 1
                return 200, {"request_id": request_id}
            return 200, {"errcode": 0, "errmsg": "ok"}

    def on(self, path: str) -> list[HttpArrival]:
        with self.lock:
            return [arrival for arrival in self.arrivals if arrival.path == path]

    def __enter__(self) -> GatewayStub:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
