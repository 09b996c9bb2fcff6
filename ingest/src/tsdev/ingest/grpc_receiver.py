"""The OTLP/gRPC receiver: ``TraceService``, ``LogsService`` and ``MetricsService`` ``Export``.

Handlers take the raw message bytes and parse them through the same pipeline as OTLP/HTTP, so a
malformed message is answered ``INVALID_ARGUMENT`` (gRPC's own deserializer would say ``INTERNAL``).
Overload and store failures are ``UNAVAILABLE`` with a ``RetryInfo`` detail, as the OTLP specification
asks, so exporters back off and retry. Service names come from opentelemetry-proto's descriptors;
gzip-compressed messages are handled by gRPC itself.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import grpc
from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.duration_pb2 import Duration
from google.rpc import code_pb2, error_details_pb2, status_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from tsdev.ingest.auth import token_allowed
from tsdev.ingest.pipeline import IngestPipeline, Overloaded, StoreUnavailable
from tsdev.ingest.signals import LOGS, METRICS, TRACES, BadRequest, Signal

logger = logging.getLogger(__name__)

_SERVICES = (
    (trace_service_pb2.DESCRIPTOR.services_by_name["TraceService"].full_name, TRACES),
    (logs_service_pb2.DESCRIPTOR.services_by_name["LogsService"].full_name, LOGS),
    (metrics_service_pb2.DESCRIPTOR.services_by_name["MetricsService"].full_name, METRICS),
)

Handler = Callable[[bytes, grpc.aio.ServicerContext[bytes, bytes]], Awaitable[bytes]]


def _retry_details(code: int, message: str, seconds: int) -> tuple[tuple[str, bytes]]:
    detail = AnyMessage()
    detail.Pack(error_details_pb2.RetryInfo(retry_delay=Duration(seconds=seconds)))
    status = status_pb2.Status(code=code, message=message, details=[detail])
    return (("grpc-status-details-bin", status.SerializeToString()),)


class OtlpGrpcReceiver:
    def __init__(self, pipeline: IngestPipeline, *, tokens: tuple[str, ...] = ()) -> None:
        self._pipeline = pipeline
        self._tokens = tokens

    def handlers(self) -> list[grpc.GenericRpcHandler]:
        return [
            grpc.method_handlers_generic_handler(
                service, {"Export": grpc.unary_unary_rpc_method_handler(self._handler(signal))}
            )
            for service, signal in _SERVICES
        ]

    def _handler(self, signal: Signal) -> Handler:
        async def export(body: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
            return await self.export(signal, body, context)

        return export

    async def export(
        self, signal: Signal, body: bytes, context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> bytes:
        metrics = self._pipeline.metrics
        outcome = "error"
        try:
            authorization = dict(context.invocation_metadata() or ()).get("authorization")
            if not token_allowed(str(authorization) if authorization else None, self._tokens):
                outcome = "unauthorized"
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid bearer token")
            try:
                decoded = await self._pipeline.export(signal, body, json_body=False)
            except BadRequest as exc:
                outcome = "bad_request"
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            except (Overloaded, StoreUnavailable) as exc:
                outcome = "overloaded" if isinstance(exc, Overloaded) else "unavailable"
                await context.abort(
                    grpc.StatusCode.UNAVAILABLE,
                    str(exc),
                    trailing_metadata=_retry_details(code_pb2.UNAVAILABLE, str(exc), exc.retry_after_seconds),
                )
            outcome = "partial" if decoded.rejected else "ok"
            return bytes(signal.response(decoded).SerializeToString())
        finally:
            metrics.requests.labels(signal.name, outcome).inc()


def create_grpc_server(
    pipeline: IngestPipeline, host: str, port: int, *, max_message_bytes: int, tokens: tuple[str, ...] = ()
) -> grpc.aio.Server:
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", 4 * 1024 * 1024),
        ],
    )
    server.add_generic_rpc_handlers(OtlpGrpcReceiver(pipeline, tokens=tokens).handlers())
    server.add_insecure_port(f"{host}:{port}")
    return server
