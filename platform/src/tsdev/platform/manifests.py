"""Kubernetes objects rendered from an app spec, as plain dicts ready for server-side apply.

Plain dicts rather than the client's model classes: server-side apply sends exactly the fields tsdev
means to own, and a model would send every field it knows as ``null``. Labels carry
``app.kubernetes.io/managed-by: tsdev`` so ``tsdev status`` and the autoscaler find what tsdev manages.
"""

from __future__ import annotations

from typing import Any

from tsdev.platform.spec import AppSpec

Manifest = dict[str, Any]

MANAGED_BY = "app.kubernetes.io/managed-by"
HPA_VERSIONS = ("autoscaling/v2", "autoscaling/v2beta2", "autoscaling/v1")
"""Newest first: the HPA is rendered in the first of these the API server serves."""

KEDA_API_VERSION = "keda.sh/v1alpha1"


def labels(spec: AppSpec) -> dict[str, str]:
    return {"app.kubernetes.io/name": spec.name, MANAGED_BY: "tsdev"}


def _metadata(spec: AppSpec) -> dict[str, Any]:
    return {"name": spec.name, "namespace": spec.namespace, "labels": labels(spec)}


def _env(spec: AppSpec) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [{"name": key, "value": value} for key, value in sorted(spec.env.items())]
    env += [
        {"name": ref.name, "valueFrom": {"secretKeyRef": {"name": ref.secret, "key": ref.key}}}
        for ref in spec.secrets
    ]
    return env


def _resources(spec: AppSpec) -> dict[str, Any]:
    r = spec.resources
    out: dict[str, Any] = {"requests": {"cpu": r.cpu_request, "memory": r.memory_request}}
    limits = {k: v for k, v in (("cpu", r.cpu_limit), ("memory", r.memory_limit)) if v}
    if limits:
        out["limits"] = limits
    return out


def _probe(spec: AppSpec, path: str) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "initialDelaySeconds": spec.health.initial_delay_seconds,
        "periodSeconds": spec.health.period_seconds,
        "failureThreshold": 3,
    }


def render_deployment(spec: AppSpec, replicas: int) -> Manifest:
    """The Deployment. Graceful shutdown: a ``preStop`` sleep lets endpoints drop the pod before it gets
    SIGTERM, inside ``terminationGracePeriodSeconds``; ``maxUnavailable: 0`` keeps capacity during a rollout
    so a deploy at peak never runs with fewer ready pods than before."""
    container: dict[str, Any] = {
        "name": spec.name,
        "image": spec.image,
        "ports": [{"name": "http", "containerPort": spec.port, "protocol": "TCP"}],
        "resources": _resources(spec),
        "livenessProbe": _probe(spec, spec.health.liveness_path),
        "readinessProbe": _probe(spec, spec.health.readiness_path),
    }
    if spec.command:
        container["command"] = list(spec.command)
    if env := _env(spec):
        container["env"] = env
    if spec.pre_stop_sleep_seconds:
        container["lifecycle"] = {
            "preStop": {"exec": {"command": ["sleep", str(spec.pre_stop_sleep_seconds)]}},
        }
    selector = {"app.kubernetes.io/name": spec.name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(spec),
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": selector},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels(spec)},
                "spec": {
                    "terminationGracePeriodSeconds": spec.shutdown_grace_seconds,
                    "containers": [container],
                },
            },
        },
    }


def render_service(spec: AppSpec) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(spec),
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": spec.name},
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def _metrics_v2(spec: AppSpec) -> list[dict[str, Any]]:
    s = spec.scaling
    metrics: list[dict[str, Any]] = []
    if s.target_cpu_percent is not None:
        metrics.append(
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": s.target_cpu_percent},
                },
            }
        )
    if s.target_rps_per_replica is not None:
        metrics.append(
            {
                "type": "Pods",
                "pods": {
                    "metric": {"name": s.rps_metric},
                    "target": {"type": "AverageValue", "averageValue": _quantity(s.target_rps_per_replica)},
                },
            }
        )
    return metrics


def _quantity(value: float) -> str:
    """A Kubernetes quantity for ``value``: whole numbers as they are, fractions in milli-units."""
    return str(int(value)) if float(value).is_integer() else f"{round(value * 1000)}m"


def render_hpa(spec: AppSpec, api_version: str, min_replicas: int | None = None) -> Manifest:
    """The HPA in ``api_version``. ``min_replicas`` is the predictive floor (default the spec's minimum).

    ``autoscaling/v1`` can only express a CPU target; an app with only a requests-per-second target gets
    CPU 80% there, and the predictive floor still carries the forecast."""
    s = spec.scaling
    floor = max(s.min_replicas, min(min_replicas or s.min_replicas, s.max_replicas))
    body: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": spec.name},
        "minReplicas": floor,
        "maxReplicas": s.max_replicas,
    }
    if api_version == "autoscaling/v1":
        body["targetCPUUtilizationPercentage"] = s.target_cpu_percent or 80
    elif api_version in HPA_VERSIONS:
        body["metrics"] = _metrics_v2(spec)
        body["behavior"] = {
            "scaleDown": {"stabilizationWindowSeconds": s.scale_down_stabilization_seconds},
        }
    else:
        raise ValueError(f"unsupported HPA API version {api_version}")
    return {
        "apiVersion": api_version,
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(spec),
        "spec": body,
    }


def keda_url(server: str, app: str) -> str:
    return f"{server.rstrip('/')}/api/v1/scaling/{app}/keda"


def render_scaled_object(spec: AppSpec, server: str) -> Manifest:
    """A KEDA ScaledObject whose ``metrics-api`` trigger reads the replicas tsdev's forecast asks for.

    The endpoint answers ``{"value": replicas}`` and the target is 1, so KEDA's own HPA runs exactly that
    many pods; ``minReplicaCount: 0`` only when the app allows quiet periods to go to zero."""
    s = spec.scaling
    return {
        "apiVersion": KEDA_API_VERSION,
        "kind": "ScaledObject",
        "metadata": _metadata(spec),
        "spec": {
            "scaleTargetRef": {"name": spec.name},
            "pollingInterval": s.keda.polling_interval_seconds,
            "minReplicaCount": 0 if s.keda.allow_zero else s.min_replicas,
            "maxReplicaCount": s.max_replicas,
            "advanced": {
                "horizontalPodAutoscalerConfig": {
                    "behavior": {
                        "scaleDown": {"stabilizationWindowSeconds": s.scale_down_stabilization_seconds}
                    }
                }
            },
            "triggers": [
                {
                    "type": "metrics-api",
                    "metricType": "AverageValue",
                    "metadata": {
                        "url": keda_url(server, spec.name),
                        "valueLocation": "value",
                        "targetValue": "1",
                        "activationTargetValue": "0",
                    },
                }
            ],
        },
    }


def render_all(
    spec: AppSpec, *, replicas: int, hpa_version: str, server: str = "", floor: int | None = None
) -> list[Manifest]:
    """Everything a deploy applies, in apply order. ``floor`` is the HPA's ``minReplicas`` (default
    ``replicas``). With KEDA, its ScaledObject owns the HPA, so tsdev renders no HPA of its own (two HPAs
    on one Deployment fight)."""
    out = [render_deployment(spec, replicas), render_service(spec)]
    if spec.scaling.keda.enabled:
        out.append(render_scaled_object(spec, server))
    else:
        out.append(render_hpa(spec, hpa_version, min_replicas=replicas if floor is None else floor))
    return out


def choose_hpa_version(served: set[str]) -> str:
    """The newest HPA version in ``served`` (``group/version`` strings) that tsdev can render."""
    for candidate in HPA_VERSIONS:
        if candidate in served:
            return candidate
    raise LookupError("the API server serves no autoscaling API version tsdev knows (v2, v2beta2, v1)")
