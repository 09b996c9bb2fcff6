"""The shop's configuration, read from the environment once.

The OpenTelemetry SDK's own variables (``OTEL_SERVICE_NAME``, ``OTEL_EXPORTER_OTLP_ENDPOINT``) keep
their usual meaning so the shop is pointed at tsdev like any other app; the ``SHOP_*`` variables
tune the deliberate problems (how slow a query is, how often the payment stub times out), which the
tests turn down to stay fast and the demo turns up to make findings clear.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ShopConfig:
    """Every knob of the shop; units are in the field names."""

    service_name: str = "shop"
    otlp_endpoint: str = "http://127.0.0.1:4318"
    """Base URL of an OTLP/HTTP receiver; ``/v1/traces`` and ``/v1/logs`` are appended."""
    export_telemetry: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    stubs_port: int = 8001
    stubs_url: str | None = None
    """Base URL of the downstream stubs; when unset they are served in the shop's process."""
    seed: int = 7
    """Seeds the demo data and the payment stub's timeouts, so runs are reproducible."""
    db_latency_ms: float = 12.0
    """Added to every SQL statement, standing in for a database across the network."""
    user_latency_ms: float = 60.0
    recommendations_latency_ms: float = 90.0
    inventory_latency_ms: float = 70.0
    payment_latency_ms: float = 20.0
    payment_timeout_rate: float = 0.04
    """Share of payment quotes on which the stub hangs past the client's timeout."""
    payment_timeout_ms: float = 500.0
    """The shop's client timeout for the payment quote."""
    orders_shown: int = 8
    """Orders listed by ``GET /orders``, each fetching its items separately (the N+1)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ShopConfig:
        """The configuration from ``env`` (default: ``os.environ``); unset variables keep defaults."""
        env = os.environ if env is None else env
        default = cls()

        def text(name: str, fallback: str) -> str:
            return env.get(name) or fallback

        def number(name: str, fallback: float) -> float:
            value = env.get(name)
            return float(value) if value else fallback

        def integer(name: str, fallback: int) -> int:
            value = env.get(name)
            return int(value) if value else fallback

        return cls(
            service_name=text("OTEL_SERVICE_NAME", default.service_name),
            otlp_endpoint=text("OTEL_EXPORTER_OTLP_ENDPOINT", default.otlp_endpoint).rstrip("/"),
            export_telemetry=text("OTEL_SDK_DISABLED", "false").lower() != "true",
            host=text("SHOP_HOST", default.host),
            port=integer("SHOP_PORT", default.port),
            stubs_port=integer("SHOP_STUBS_PORT", default.stubs_port),
            stubs_url=env.get("SHOP_STUBS_URL") or None,
            seed=integer("SHOP_SEED", default.seed),
            db_latency_ms=number("SHOP_DB_LATENCY_MS", default.db_latency_ms),
            user_latency_ms=number("SHOP_USER_LATENCY_MS", default.user_latency_ms),
            recommendations_latency_ms=number(
                "SHOP_RECOMMENDATIONS_LATENCY_MS", default.recommendations_latency_ms
            ),
            inventory_latency_ms=number("SHOP_INVENTORY_LATENCY_MS", default.inventory_latency_ms),
            payment_latency_ms=number("SHOP_PAYMENT_LATENCY_MS", default.payment_latency_ms),
            payment_timeout_rate=number("SHOP_PAYMENT_TIMEOUT_RATE", default.payment_timeout_rate),
            payment_timeout_ms=number("SHOP_PAYMENT_TIMEOUT_MS", default.payment_timeout_ms),
            orders_shown=integer("SHOP_ORDERS_SHOWN", default.orders_shown),
        )
