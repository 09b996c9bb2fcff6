"""Talking to the server's API from commands: base URL, token, and errors people can act on.

Commands never see an HTTP error: an unreachable server, a refused token, a bad parameter or an
absent resource each end the command through :func:`~tsdev.cli.output.abort` with a sentence that
says what to do, and exit codes 3 (unavailable), 2 (usage) or 1 (anything else).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tsdev.cli.output import EXIT_FAILURE, EXIT_UNAVAILABLE, EXIT_USAGE, abort

if TYPE_CHECKING:
    import httpx

DEFAULT_SERVER = "http://127.0.0.1:8080"

# Declared in tsdev.core.environment_variables (a test keeps them equal); not imported from there
# because importing tsdev.core loads pydantic, which would make `tsdev --help` take a second.
TSDEV_SERVER = "TSDEV_SERVER"
TSDEV_TOKEN = "TSDEV_TOKEN"  # noqa: S105 (the name of the variable, not a token)

ServerOption = Annotated[
    str,
    typer.Option(
        "--server",
        envvar=TSDEV_SERVER,
        show_envvar=False,
        help=f"Base URL of the tsdev API [env: {TSDEV_SERVER}; default {DEFAULT_SERVER}]. "
        f"The bearer token is read from {TSDEV_TOKEN}.",
    ),
]

Params = Mapping[str, str | int | Sequence[str] | None]


class ApiClient:
    def __init__(self, server: str, token: str | None = None, timeout: float = 60.0) -> None:
        import httpx

        self.server = server.rstrip("/")
        token = os.environ.get(TSDEV_TOKEN) if token is None else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.server, headers=headers, timeout=timeout)

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    def get(self, path: str, params: Params | None = None) -> Any:
        import httpx

        try:
            response = self._http.get(path, params=_clean(params))
        except httpx.TransportError as exc:
            self._unreachable(exc)
        self._check(response)
        return response.json()

    def send(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """A ``POST``/``PATCH`` with a JSON body; the answer's JSON."""
        import httpx

        try:
            response = self._http.request(method, path, json=dict(body or {}))
        except httpx.TransportError as exc:
            self._unreachable(exc)
        self._check(response)
        return response.json()

    def stream(self, path: str, params: Params | None = None) -> Iterator[dict[str, Any]]:
        """The ``data`` of each Server-Sent Event, parsed as JSON, until the server closes."""
        import httpx

        try:
            with self._http.stream(
                "GET", path, params=_clean(params), timeout=httpx.Timeout(10, read=None)
            ) as response:
                if response.status_code != 200:
                    response.read()
                    self._check(response)
                for line in response.iter_lines():
                    if line.startswith("data:"):
                        yield json.loads(line[5:].strip())
        except httpx.TransportError as exc:
            self._unreachable(exc)

    def _unreachable(self, exc: Exception) -> None:
        abort(
            f"cannot reach the tsdev server at {self.server} ({exc.__class__.__name__}). "
            f"Is `tsdev serve` running? Point to it with --server or {TSDEV_SERVER}.",
            EXIT_UNAVAILABLE,
        )

    def _check(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        detail = _detail(response)
        if response.status_code == 401:
            hint = f"set {TSDEV_TOKEN}" if TSDEV_TOKEN not in os.environ else f"check {TSDEV_TOKEN}"
            abort(
                f"the server refused the API token ({detail}); {hint} to one of its TSDEV_API_TOKENS",
                EXIT_USAGE,
            )
        if response.status_code == 400:
            abort(detail, EXIT_USAGE)
        if response.status_code == 404:
            abort(detail, EXIT_FAILURE)
        abort(f"the server answered {response.status_code}: {detail}", EXIT_UNAVAILABLE)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])
    return str(body)[:200]


def _clean(params: Params | None) -> dict[str, Any]:
    return {key: value for key, value in (params or {}).items() if value not in (None, [], "")}
