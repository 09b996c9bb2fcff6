"""The corpus app's downstream services: one local HTTP server that answers like remote ones.

Every path's first segment names a downstream service with its own :class:`Behaviour`: how long it
takes to answer and which of its calls (numbered by arrival, from 1) fail, either with a 503 or by
hanging past any sensible client timeout. The latency is the server's own, an ``asyncio.sleep``
before it answers, so the calls' spans take that long for the reason real ones do. The stubs are
not instrumented: they stand for third-party services whose traces tsdev does not see.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

HANG_S = 1.0
"""How long a hanging call waits before it answers anyway: far past every client timeout."""


def never(_: int) -> bool:
    return False


def every(n: int) -> Callable[[int], bool]:
    """The calls numbered ``n/2``, ``n + n/2``, ...: one in ``n``, spread through the run."""
    return lambda call: call % n == n // 2


def between(first: int, last: int) -> Callable[[int], bool]:
    """The calls ``first`` to ``last``: an outage."""
    return lambda call: first <= call <= last


def always(_: int) -> bool:
    return True


@dataclass(frozen=True)
class Behaviour:
    delay_ms: float
    fails: Callable[[int], bool] = never
    """Which calls (numbered by arrival from 1) fail."""
    failure: str = "503"
    """``503`` (Service Unavailable) or ``hang`` (no answer for :data:`HANG_S`)."""


BEHAVIOURS: dict[str, Behaviour] = {
    # n_plus_one
    "inventory": Behaviour(delay_ms=12),
    "prices": Behaviour(delay_ms=60),
    # flaky_step
    "quote": Behaviour(delay_ms=5, fails=every(10), failure="hang"),
    "quote-few": Behaviour(delay_ms=5, fails=every(10), failure="hang"),
    "quote-outage": Behaviour(delay_ms=5, fails=between(25, 31)),
    "charges": Behaviour(delay_ms=5, fails=every(8)),
    "legacy-stock": Behaviour(delay_ms=5, fails=always),
    # parallelizable
    "users": Behaviour(delay_ms=80),
    "prefs": Behaviour(delay_ms=60),
    "recs": Behaviour(delay_ms=70),
    "members": Behaviour(delay_ms=70),
    "accounts": Behaviour(delay_ms=70),
    "ledger": Behaviour(delay_ms=70),
    "avatars": Behaviour(delay_ms=15),
    "badges": Behaviour(delay_ms=15),
    "streaks": Behaviour(delay_ms=15),
    "sales": Behaviour(delay_ms=150),
    "stock-levels": Behaviour(delay_ms=120),
    # cacheable
    "rates": Behaviour(delay_ms=10),
}

ACCOUNT_OFFSET = 9000
"""A member's account id is their id plus this: a value only the members service's answer holds."""


def _bind() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Inherited by accepted connections: without it Nagle's algorithm holds small answers until the
    # client's delayed ACK, some 40 ms, which would show in every call's span.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class Stubs:
    """The downstream services while they run, at ``url``; ``stop`` ends them."""

    behaviours: dict[str, Behaviour] = field(default_factory=lambda: dict(BEHAVIOURS))
    url: str = ""
    _counters: dict[str, itertools.count[int]] = field(default_factory=dict)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    async def _answer(self, request: Request) -> Response:
        path = request.path_params["path"]
        service, _, rest = path.partition("/")
        behaviour = self.behaviours.get(service)
        if behaviour is None:
            return JSONResponse({"error": f"no service {service}"}, status_code=404)
        call = next(self._counters.setdefault(service, itertools.count(1)))
        failing = behaviour.fails(call)
        if failing and behaviour.failure == "hang":
            await asyncio.sleep(HANG_S)
        await asyncio.sleep(behaviour.delay_ms / 1000)
        if failing:
            return JSONResponse({"error": f"{service} unavailable"}, status_code=503)
        body: dict[str, object] = {"service": service, "path": rest, "call": call}
        if service == "members" and rest.isdigit():
            body["account_id"] = ACCOUNT_OFFSET + int(rest)
        return JSONResponse(body, status_code=201 if request.method == "POST" else 200)

    def start(self, timeout_s: float = 30.0) -> Stubs:
        app = Starlette(routes=[Route("/{path:path}", self._answer, methods=["GET", "POST"])])
        sock = _bind()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
        self._server = server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])), name="corpus-stubs", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the corpus stubs did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
