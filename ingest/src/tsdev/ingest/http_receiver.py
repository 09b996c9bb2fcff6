"""The OTLP/HTTP receiver: ``POST /v1/traces``, ``/v1/logs`` and ``/v1/metrics``.

Status codes follow the OTLP specification: 200 with the matching ``Export*ServiceResponse`` (with
``partial_success`` when some items were refused), 400 with a ``google.rpc.Status`` body for an
undecodable request, 401 for a missing or wrong token, 413 for a body over the limit, 415 for a content
type other than protobuf or JSON, 429 with ``Retry-After`` when the in-flight budget is spent, and 503
with ``Retry-After`` when the store cannot commit the rows.
"""

from __future__ import annotations

import logging

from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import code_pb2, status_pb2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tsdev.ingest.auth import token_allowed
from tsdev.ingest.body import BadEncoding, BodyTooLarge, UnsupportedEncoding, decompress, read_limited
from tsdev.ingest.pipeline import IngestPipeline, Overloaded, StoreUnavailable
from tsdev.ingest.signals import SIGNALS, BadRequest, Signal

logger = logging.getLogger(__name__)

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


def _encode(message: Message, content_type: str) -> bytes:
    if content_type == JSON:
        return json_format.MessageToJson(message, indent=None).encode()
    return message.SerializeToString()


def _status_response(
    http_status: int, code: int, message: str, content_type: str, headers: dict[str, str] | None = None
) -> Response:
    status = status_pb2.Status(code=code, message=message)
    return Response(
        _encode(status, content_type), status_code=http_status, media_type=content_type, headers=headers
    )


class OtlpHttpReceiver:
    def __init__(
        self, pipeline: IngestPipeline, *, max_request_bytes: int, tokens: tuple[str, ...] = ()
    ) -> None:
        self._pipeline = pipeline
        self._metrics = pipeline.metrics
        self._max_request_bytes = max_request_bytes
        self._tokens = tokens

    def routes(self) -> list[Route]:
        return [
            Route(f"/v1/{name}", self._endpoint(signal), methods=["POST"]) for name, signal in SIGNALS.items()
        ]

    def app(self) -> Starlette:
        return Starlette(routes=self.routes())

    def _endpoint(self, signal: Signal):  # type: ignore[no-untyped-def]
        async def endpoint(request: Request) -> Response:
            return await self.export(signal, request)

        return endpoint

    async def export(self, signal: Signal, request: Request) -> Response:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        reply_type = JSON if media_type == JSON else PROTOBUF
        outcome = "error"
        try:
            if not token_allowed(request.headers.get("authorization"), self._tokens):
                outcome = "unauthorized"
                return _status_response(
                    401,
                    code_pb2.UNAUTHENTICATED,
                    "missing or invalid bearer token",
                    reply_type,
                    {"WWW-Authenticate": "Bearer"},
                )
            if media_type not in (PROTOBUF, JSON):
                outcome = "unsupported_media_type"
                return _status_response(
                    415,
                    code_pb2.INVALID_ARGUMENT,
                    f"unsupported Content-Type {media_type or '(none)'!r}; use {PROTOBUF} or {JSON}",
                    JSON,
                )
            try:
                body = await read_limited(request.stream(), self._max_request_bytes)
                body = decompress(body, request.headers.get("content-encoding", ""), self._max_request_bytes)
            except BodyTooLarge as exc:
                outcome = "too_large"
                return _status_response(413, code_pb2.RESOURCE_EXHAUSTED, str(exc), reply_type)
            except UnsupportedEncoding as exc:
                outcome = "unsupported_encoding"
                return _status_response(415, code_pb2.INVALID_ARGUMENT, str(exc), reply_type)
            except BadEncoding as exc:
                outcome = "bad_request"
                return _status_response(400, code_pb2.INVALID_ARGUMENT, str(exc), reply_type)
            try:
                decoded = await self._pipeline.export(signal, body, json_body=media_type == JSON)
            except BadRequest as exc:
                outcome = "bad_request"
                return _status_response(400, code_pb2.INVALID_ARGUMENT, str(exc), reply_type)
            except Overloaded as exc:
                outcome = "overloaded"
                return _status_response(
                    429,
                    code_pb2.UNAVAILABLE,
                    str(exc),
                    reply_type,
                    {"Retry-After": str(exc.retry_after_seconds)},
                )
            except StoreUnavailable as exc:
                outcome = "unavailable"
                return _status_response(
                    503,
                    code_pb2.UNAVAILABLE,
                    str(exc),
                    reply_type,
                    {"Retry-After": str(exc.retry_after_seconds)},
                )
            outcome = "partial" if decoded.rejected else "ok"
            return Response(_encode(signal.response(decoded), reply_type), media_type=reply_type)
        finally:
            self._metrics.requests.labels(signal.name, outcome).inc()
