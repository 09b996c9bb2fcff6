"""tsdev's configuration: one typed object built from flags, ``TSDEV_*`` variables and defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tsdev.core.timezones import ServiceZones

LogLevel = Literal["debug", "info", "warning", "error"]
Role = Literal["all", "ingest", "api"]


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("tsdev", appauthor=False))


def _split_tokens(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(token.strip() for token in value.split(",") if token.strip())
    return value


class Settings(BaseSettings):
    """Every field maps to the variable ``TSDEV_<FIELD NAME>`` listed in
    :mod:`tsdev.core.environment_variables`; CLI flags override them."""

    model_config = SettingsConfigDict(env_prefix="TSDEV_", frozen=True, extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    clickhouse_url: str = ""
    clickhouse_database: str = Field(default="otel", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    traces_ttl_days: int = Field(default=7, ge=0)
    logs_ttl_days: int = Field(default=7, ge=0)
    metrics_ttl_days: int = Field(default=30, ge=0)
    host: str = "127.0.0.1"
    otlp_grpc_port: int = Field(default=4317, ge=0, le=65535)
    otlp_http_port: int = Field(default=4318, ge=0, le=65535)
    api_port: int = Field(default=8080, ge=0, le=65535)
    role: Role = "all"
    max_request_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    max_inflight_bytes: int = Field(default=256 * 1024 * 1024, gt=0)
    max_queued_rows: int = Field(default=1_000_000, gt=0)
    batch_max_rows: int = Field(default=100_000, gt=0)
    batch_linger_seconds: float = Field(default=0.03, ge=0, le=10)
    ingest_engine_decode: bool = True
    spool_dir: Path | None = None
    spool_max_bytes: int = Field(default=1024 * 1024 * 1024, gt=0)
    ingest_tokens: Annotated[tuple[str, ...], NoDecode] = ()
    api_tokens: Annotated[tuple[str, ...], NoDecode] = ()
    log_level: LogLevel = "info"
    analysis_interval_seconds: float = Field(default=300.0, ge=0)
    redis_url: str = ""
    advisor_schedule_repo: str = Field(default="", pattern=r"^$|^[\w.-]+/[\w.-]+$")
    advisor_min_saving_ms_per_hour: float = Field(default=60_000.0, ge=0)
    forecast_counter_metric: str = ""
    forecast_counter_service_attribute: str = Field(default="service.name", min_length=1)
    forecast_counter_operation_attribute: str = Field(default="http.route", min_length=1)
    forecast_timezone: str = "UTC"

    _split_ingest = field_validator("ingest_tokens", "api_tokens", mode="before")(_split_tokens)

    @field_validator("forecast_timezone")
    @classmethod
    def _known_timezones(cls, value: str) -> str:
        ServiceZones.parse(value)
        return value

    @property
    def forecast_timezones(self) -> ServiceZones:
        """``forecast_timezone`` read: the default zone and the services that follow another one."""
        return ServiceZones.parse(self.forecast_timezone)

    @field_validator("log_level", "role", mode="before")
    @classmethod
    def _lower_case(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @property
    def effective_clickhouse_url(self) -> str:
        """The configured DSN, or the embedded store inside the data directory."""
        return self.clickhouse_url or f"chdb://{(self.data_dir / 'clickhouse').resolve()}"

    @property
    def effective_spool_dir(self) -> Path:
        return self.spool_dir or self.data_dir / "spool"

    def __repr__(self) -> str:  # tokens never reach logs or tracebacks
        shown = self.model_dump(exclude={"ingest_tokens", "api_tokens"})
        shown["ingest_tokens"] = f"<{len(self.ingest_tokens)} tokens>"
        shown["api_tokens"] = f"<{len(self.api_tokens)} tokens>"
        return f"Settings({shown})"

    __str__ = __repr__


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with explicit values (CLI flags) taking precedence; ``None``
    values are treated as "not given"."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})
