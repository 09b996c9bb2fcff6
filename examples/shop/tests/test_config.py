"""The shop reads the OpenTelemetry SDK's variables and its own ``SHOP_*`` ones."""

from __future__ import annotations

from shop.config import ShopConfig


def test_defaults_point_at_a_local_tsdev() -> None:
    config = ShopConfig.from_env({})

    assert config == ShopConfig()
    assert config.otlp_endpoint == "http://127.0.0.1:4318"


def test_environment_overrides_defaults() -> None:
    config = ShopConfig.from_env(
        {
            "OTEL_SERVICE_NAME": "checkout",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://tsdev:4318/",
            "OTEL_SDK_DISABLED": "true",
            "SHOP_PORT": "9000",
            "SHOP_STUBS_URL": "http://stubs:8001",
            "SHOP_PAYMENT_TIMEOUT_RATE": "0.5",
            "SHOP_DB_LATENCY_MS": "0",
        }
    )

    assert config.service_name == "checkout"
    assert config.otlp_endpoint == "http://tsdev:4318"
    assert config.export_telemetry is False
    assert config.port == 9000
    assert config.stubs_url == "http://stubs:8001"
    assert config.payment_timeout_rate == 0.5
    assert config.db_latency_ms == 0.0
