"""A local ``POST /v1/messages`` for the real ``anthropic`` SDK, answering from a script.

Each request takes the next scripted reply: a ``propose_patch`` tool call, an error status, a 429
with ``retry-after``, or malformed tool input. Requests are kept (headers and JSON) so tests can
check what the advisor sent: the forced tool, cache control, no secrets.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "sk-ant-test-key-0123456789"


def tool_reply(tool_input: Any) -> dict[str, Any]:
    return {"kind": "tool", "input": tool_input}


def error_reply(status: int, kind: str = "api_error") -> dict[str, Any]:
    return {"kind": "error", "status": status, "type": kind}


def rate_limited() -> dict[str, Any]:
    return {"kind": "error", "status": 429, "type": "rate_limit_error", "retry_after": True}


class FakeAnthropic:
    def __init__(self) -> None:
        self.script: deque[dict[str, Any]] = deque()
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeAnthropic:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(fake: FakeAnthropic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            fake.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            key = self.headers.get("x-api-key") or self.headers.get("authorization", "").removeprefix(
                "Bearer "
            )
            if self.path != "/v1/messages":
                return self._send(
                    404, {"type": "error", "error": {"type": "not_found_error", "message": "no"}}
                )
            if key != API_KEY:
                return self._send(
                    401, {"type": "error", "error": {"type": "authentication_error", "message": "bad key"}}
                )
            reply = fake.script.popleft() if fake.script else error_reply(500)
            if reply["kind"] == "error":
                headers = (
                    {"retry-after": "1", "retry-after-ms": "20"}
                    if reply.get("retry_after")
                    else {"x-should-retry": "false"}
                )
                error = {"type": "error", "error": {"type": reply["type"], "message": "scripted"}}
                return self._send(reply["status"], error, headers)
            self._send(
                200,
                {
                    "id": f"msg_{len(fake.requests)}",
                    "type": "message",
                    "role": "assistant",
                    "model": body.get("model", ""),
                    "content": [
                        {
                            "type": "tool_use",
                            "id": "toolu_1",
                            "name": "propose_patch",
                            "input": reply["input"],
                        }
                    ],
                    "stop_reason": "tool_use",
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": 1200,
                        "output_tokens": 300,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 900,
                    },
                },
            )

    return Handler
