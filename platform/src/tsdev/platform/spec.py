"""The app spec: what an app's repository declares about running it, validated before anything is sent.

The spec lives in the app's repository (``tsdev.yaml`` or any path given to ``tsdev deploy``), so a
typo must fail the deploy with a message that names the field, not surface later as a pod that never
becomes ready. Every model forbids unknown keys for the same reason: ``max_replica: 10`` is an error,
not a silently ignored line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


class SpecError(ValueError):
    """The spec cannot be used; ``str()`` lists each bad field with what is wrong with it."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(_Model):
    """An environment variable filled from a key of a Kubernetes Secret (the value never enters the spec)."""

    name: str = Field(description="Environment variable name")
    secret: str = Field(description="Name of the Secret in the app's namespace")
    key: str = Field(description="Key inside the Secret")

    @field_validator("name")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise ValueError(f"{value!r} is not a valid environment variable name")
        return value


class Resources(_Model):
    """Requests and limits as Kubernetes quantities (``250m``, ``512Mi``)."""

    cpu_request: str = "100m"
    memory_request: str = "128Mi"
    cpu_limit: str | None = None
    memory_limit: str | None = "512Mi"


class Health(_Model):
    """HTTP paths of the liveness and readiness probes on the app's port."""

    liveness_path: str = "/healthz"
    readiness_path: str = "/readyz"
    initial_delay_seconds: int = Field(default=5, ge=0)
    period_seconds: int = Field(default=10, ge=1)

    @field_validator("liveness_path", "readiness_path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /")
        return value


class Keda(_Model):
    """Scale through a KEDA ScaledObject reading tsdev's forecast instead of a plain HPA.

    ``allow_zero`` lets known quiet periods go to zero replicas (a plain HPA cannot go below 1): when the
    forecast's upper quantile stays under ``quiet_threshold_rps`` for ``quiet_window_seconds`` ahead.
    """

    enabled: bool = False
    allow_zero: bool = False
    quiet_threshold_rps: float = Field(default=0.5, ge=0)
    quiet_window_seconds: int = Field(default=1800, ge=60)
    polling_interval_seconds: int = Field(default=30, ge=5)


class Scaling(_Model):
    """Bounds and targets of the app's autoscaling, reactive (HPA) and predictive (tsdev's floor)."""

    min_replicas: int = Field(default=1, ge=1)
    max_replicas: int = Field(default=10, ge=1)
    target_rps_per_replica: float | None = Field(default=None, gt=0)
    target_cpu_percent: int | None = Field(default=None, ge=1, le=1000)
    predictive: bool = True
    forecast_service: str | None = Field(
        default=None, description="Service name of the forecast; default the app name"
    )
    quantile: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="Forecast quantile the floor is sized for. The median by default: the floor is "
        "sized at the per-replica target, which keeps its own headroom, and the HPA still reacts above it",
    )
    lead_seconds: int = Field(default=180, ge=0, le=86400)
    learn_lead: bool = Field(
        default=True, description="Lengthen the lead to the pods' observed start-to-ready"
    )
    scale_down_stabilization_seconds: int = Field(default=300, ge=0, le=3600)
    scale_up_max_pods: int = Field(default=4, ge=1)
    scale_up_max_percent: int = Field(default=100, ge=1)
    scale_down_max_pods: int = Field(default=2, ge=1)
    max_forecast_age_seconds: int = Field(default=3600, ge=60)
    rps_metric: str = Field(default="http_requests_per_second", description="Pods metric the HPA reads")
    keda: Keda = Keda()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.max_replicas < self.min_replicas:
            raise ValueError(
                f"max_replicas ({self.max_replicas}) is below min_replicas ({self.min_replicas})"
            )
        if self.target_rps_per_replica is None and self.target_cpu_percent is None:
            raise ValueError("set target_rps_per_replica or target_cpu_percent (or both)")
        if self.predictive and self.target_rps_per_replica is None:
            raise ValueError(
                "predictive scaling needs target_rps_per_replica to turn a forecast into replicas"
            )
        return self


class AppSpec(_Model):
    """One app: its container, how to check it, and how to scale it."""

    name: str
    image: str
    port: int = Field(default=8080, ge=1, le=65535)
    namespace: str = "default"
    command: list[str] | None = None
    env: dict[str, str] = Field(default_factory=dict)
    secrets: list[SecretRef] = Field(default_factory=list)
    resources: Resources = Resources()
    health: Health = Health()
    shutdown_grace_seconds: int = Field(default=30, ge=0, le=3600)
    pre_stop_sleep_seconds: int = Field(default=5, ge=0, le=300)
    scaling: Scaling = Scaling(target_cpu_percent=80, predictive=False)

    @field_validator("name", "namespace")
    @classmethod
    def _dns_label(cls, value: str) -> str:
        if not _DNS_LABEL.match(value):
            raise ValueError(f"{value!r} is not a DNS label (lower-case letters, digits and '-', at most 63)")
        return value

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not _ENV_NAME.match(key):
                raise ValueError(f"{key!r} is not a valid environment variable name")
        return value

    @model_validator(mode="after")
    def _pre_stop_fits(self) -> Self:
        if self.pre_stop_sleep_seconds >= self.shutdown_grace_seconds > 0:
            raise ValueError("pre_stop_sleep_seconds must be shorter than shutdown_grace_seconds")
        return self

    @property
    def forecast_service(self) -> str:
        return self.scaling.forecast_service or self.name

    def with_overrides(self, *, image: str | None = None, namespace: str | None = None) -> AppSpec:
        """The spec with the command line's ``--image`` and ``--namespace`` applied (validated again)."""
        data = self.model_dump()
        if image:
            data["image"] = image
        if namespace:
            data["namespace"] = namespace
        return parse_spec(data, source="command line")


def _location(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(f".{item}" if parts else item)
    return "".join(parts) or "(spec)"


def format_errors(error: ValidationError, source: str) -> str:
    lines = [f"invalid app spec {source}:"]
    for item in error.errors():
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        lines.append(f"  {_location(tuple(item['loc']))}: {message}")
    return "\n".join(lines)


def parse_spec(data: Any, source: str = "") -> AppSpec:
    """Validate ``data`` (the parsed YAML) into an :class:`AppSpec` or raise :class:`SpecError`."""
    if not isinstance(data, dict):
        raise SpecError(f"invalid app spec {source}: expected a mapping at the top level")
    try:
        return AppSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(format_errors(exc, source)) from None


def load_spec(path: Path) -> AppSpec:
    """Read and validate the YAML spec at ``path``."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise SpecError(f"cannot read app spec {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"app spec {path} is not valid YAML: {exc}") from None
    return parse_spec(data, str(path))
