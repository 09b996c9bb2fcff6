"""Deploy pipeline and predictive autoscaler for Kubernetes.

``spec`` validates an app's spec; ``manifests`` renders its objects; ``deploy`` and ``rollout`` apply
them and watch the rollout; ``autoscaler`` runs the control loop that turns forecasts into an HPA
floor, deciding with the pure ``policy`` and recording through ``decisions``. Kubernetes is reached
only through ``kube``.
"""

from tsdev.platform.forecast_source import (
    ForecastPoint,
    ForecastSource,
    HttpForecastSource,
    StoreForecastSource,
)
from tsdev.platform.policy import Decision, decide
from tsdev.platform.spec import AppSpec, SpecError, load_spec, parse_spec

__all__ = [
    "AppSpec",
    "Decision",
    "ForecastPoint",
    "ForecastSource",
    "HttpForecastSource",
    "SpecError",
    "StoreForecastSource",
    "decide",
    "load_spec",
    "parse_spec",
]
