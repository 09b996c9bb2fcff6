"""OpenTelemetry for the shop: providers, OTLP exporters and the code location of each span.

Instrumentation is attached to the shop's own app, HTTP clients and database connections rather than
patched in globally, so the shop can run inside another process (tsdev's tests do) without tracing
that process too. Every span started from the shop's code gets ``code.function``, ``code.filepath``
(relative to the shop project, e.g. ``shop/db.py``) and ``code.lineno`` of the shop frame that
caused it, which is what lets tsdev's advisor find the line to change.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import shop

if TYPE_CHECKING:
    from fastapi import FastAPI

PACKAGE_DIR = Path(shop.__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
_SKIPPED_FILES = frozenset(str(PACKAGE_DIR / name) for name in ("telemetry.py", "server.py", "__main__.py"))
"""The shop's plumbing: spans opened under these are not the code a fix would change."""

_Client = TypeVar("_Client", httpx.Client, httpx.AsyncClient)


def code_location(frame: FrameType | None) -> dict[str, str | int] | None:
    """``code.*`` attributes of the innermost shop frame at or above ``frame``, or None when the
    stack holds no shop code (a span opened by middleware, for example)."""
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(str(PACKAGE_DIR)) and filename not in _SKIPPED_FILES:
            return {
                "code.function": frame.f_code.co_name,
                "code.filepath": Path(filename).relative_to(PROJECT_DIR).as_posix(),
                "code.lineno": frame.f_lineno,
            }
        frame = frame.f_back
    return None


class CodeLocationProcessor(SpanProcessor):
    """Stamps the shop frame that opened a span on the span, when the span has none yet."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if span.attributes and "code.function" in span.attributes:
            return
        location = code_location(sys._getframe(1))
        if location is not None:
            span.set_attributes(location)

    def on_end(self, span: ReadableSpan) -> None:
        pass


@dataclass
class Telemetry:
    """The providers of one service; ``shutdown`` flushes everything still queued."""

    tracer_provider: TracerProvider
    logger_provider: LoggerProvider
    _handlers: list[tuple[logging.Logger, logging.Handler]] = field(default_factory=list)

    @classmethod
    def create(
        cls, service_name: str, otlp_endpoint: str | None, version: str = shop.__version__
    ) -> Telemetry:
        """Providers for ``service_name`` exporting OTLP/HTTP to ``otlp_endpoint`` (None: no export,
        for tests that only look at the app's answers)."""
        resource = Resource.create({"service.name": service_name, "service.version": version})
        tracer_provider = TracerProvider(resource=resource)
        tracer_provider.add_span_processor(CodeLocationProcessor())
        logger_provider = LoggerProvider(resource=resource)
        if otlp_endpoint is not None:
            base = otlp_endpoint.rstrip("/")
            tracer_provider.add_span_processor(
                BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces"), schedule_delay_millis=500)
            )
            logger_provider.add_log_record_processor(
                BatchLogRecordProcessor(
                    OTLPLogExporter(endpoint=f"{base}/v1/logs"), schedule_delay_millis=500
                )
            )
        return cls(tracer_provider, logger_provider)

    def instrument_app(self, app: FastAPI) -> None:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=self.tracer_provider, exclude_spans=["receive", "send"]
        )

    def instrument_client(self, client: _Client) -> _Client:
        """Each request of ``client`` (sync or async) becomes a client span."""
        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=self.tracer_provider)
        return client

    def instrument_connection(self, connection: sqlite3.Connection) -> Any:
        """The connection wrapped so that each statement is a client span (``db.statement``)."""
        return SQLite3Instrumentor.instrument_connection(connection, tracer_provider=self.tracer_provider)

    def export_logs(self, logger: logging.Logger) -> None:
        """Send ``logger``'s records as OTLP log records, correlated with the current span."""
        handler = LoggingHandler(logger_provider=self.logger_provider, log_code_attributes=True)
        logger.addHandler(handler)
        self._handlers.append((logger, handler))

    def force_flush(self) -> None:
        self.tracer_provider.force_flush()
        self.logger_provider.force_flush()

    def shutdown(self) -> None:
        for logger, handler in self._handlers:
            logger.removeHandler(handler)
        self._handlers.clear()
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()
