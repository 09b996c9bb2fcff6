"""The deploy pipeline: plan, show, apply, wait, and roll back when the rollout fails.

The starting replicas are the largest of the spec's minimum, what runs now, and what the forecast
says the next lead window needs, so a deploy at peak never starts under-provisioned and never shrinks
an app that the HPA has grown.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from tsdev.platform.forecast_source import ForecastSource, peak_over
from tsdev.platform.kube import Kube, KubeError
from tsdev.platform.manifests import Manifest, render_all
from tsdev.platform.policy import replicas_for
from tsdev.platform.rollout import ROLLBACK_REASON, RolloutFailed, RolloutProgress, rollback, wait_for_rollout
from tsdev.platform.spec import AppSpec

logger = logging.getLogger(__name__)

_VOLATILE_METADATA = (
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
)


@dataclass(frozen=True)
class Plan:
    spec: AppSpec
    replicas: int
    floor: int
    """The HPA's ``minReplicas``: the forecast's need, not what runs now (that may be a passing burst)."""
    reason: str
    hpa_version: str
    manifests: list[Manifest]


@dataclass
class DeployResult:
    plan: Plan
    ok: bool
    message: str
    rolled_back_to: int | None = None
    progress: list[RolloutProgress] = field(default_factory=list)


def starting_replicas(
    spec: AppSpec, running: int, source: ForecastSource | None, now: datetime
) -> tuple[int, int, str]:
    """Replicas to start with, the HPA floor, and why (in words, for the deploy output)."""
    s = spec.scaling
    floor = s.min_replicas
    reason = f"min {s.min_replicas}, running {running}"
    if source is not None and s.predictive and s.target_rps_per_replica:
        peak = peak_over(
            source,
            spec.forecast_service,
            now,
            now + timedelta(seconds=s.lead_seconds),
            s.quantile,
            timedelta(seconds=60),
        )
        if peak is not None and peak.age(now) <= timedelta(seconds=s.max_forecast_age_seconds):
            needed = replicas_for(peak.value, s.target_rps_per_replica)
            reason += (
                f", forecast q{s.quantile:g} peak {peak.value:.1f} rps"
                f" in the next {s.lead_seconds} s needs {needed}"
            )
            floor = max(floor, needed)
        else:
            reason += ", no fresh forecast"
    floor = min(floor, s.max_replicas)
    return min(max(floor, running), s.max_replicas), floor, reason


def plan_deploy(
    kube: Kube, spec: AppSpec, source: ForecastSource | None, server: str = "", now: datetime | None = None
) -> Plan:
    live = kube.get("apps/v1", "Deployment", spec.name, spec.namespace)
    running = int((live or {}).get("spec", {}).get("replicas") or 0)
    replicas, floor, reason = starting_replicas(spec, running, source, now or datetime.now(UTC))
    hpa_version = kube.hpa_version
    manifests = render_all(spec, replicas=replicas, hpa_version=hpa_version, server=server, floor=floor)
    return Plan(spec, replicas, floor, reason, hpa_version, manifests)


def to_yaml(manifests: list[Manifest]) -> str:
    return yaml.safe_dump_all(manifests, sort_keys=False)


def _comparable(obj: dict[str, Any] | None) -> str:
    if obj is None:
        return ""
    obj = {k: v for k, v in obj.items() if k != "status"}
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _VOLATILE_METADATA}
    annotations = {
        k: v for k, v in (meta.get("annotations") or {}).items() if k != "deployment.kubernetes.io/revision"
    }
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    obj["metadata"] = meta
    spec = obj.get("spec")
    if obj.get("kind") == "HorizontalPodAutoscaler" and isinstance(spec, dict) and spec.get("metrics"):
        # A 1.20 API server's dry-run apply of a v2beta2 HPA (stored as v1 plus an annotation) repeats
        # the metrics it converts back; a real apply does not, so identical entries are merged here.
        unique: list[Any] = []
        for metric in spec["metrics"]:
            if metric not in unique:
                unique.append(metric)
        obj["spec"] = {**spec, "metrics": unique}
    return yaml.safe_dump(obj, sort_keys=True)


def diff_against_cluster(kube: Kube, plan: Plan) -> str:
    """A unified diff per object between the live object and what applying would make of it, both as
    the server computes them (a server-side dry-run apply), so defaults do not show up as changes."""
    out: list[str] = []
    for manifest in plan.manifests:
        meta = manifest["metadata"]
        label = f"{manifest['kind']}/{meta['name']}"
        if manifest["kind"] == "ScaledObject" and not kube.serves(manifest["apiVersion"]):
            out.append(
                f"# {label}: KEDA is not installed in this cluster; the ScaledObject would be refused\n"
            )
            continue
        live = kube.get(manifest["apiVersion"], manifest["kind"], meta["name"], meta["namespace"])
        try:
            after = kube.apply(manifest, dry_run=True)
        except KubeError as exc:
            out.append(f"# {label}: {exc}\n")
            continue
        before_text, after_text = _comparable(live), _comparable(after)
        if before_text == after_text:
            out.append(f"# {label}: unchanged\n")
            continue
        out.extend(
            difflib.unified_diff(
                before_text.splitlines(keepends=True),
                after_text.splitlines(keepends=True),
                fromfile=f"live/{label}" if live else "/dev/null",
                tofile=f"applied/{label}",
            )
        )
    return "".join(out)


def deploy(
    kube: Kube,
    plan: Plan,
    *,
    timeout: float = 300.0,
    on_progress: Callable[[RolloutProgress], None] = lambda _: None,
) -> DeployResult:
    """Apply the plan, wait for the rollout, and roll back to the previous revision if it fails."""
    result = DeployResult(plan, ok=False, message="")

    def track(progress: RolloutProgress) -> None:
        result.progress.append(progress)
        on_progress(progress)

    spec = plan.spec
    for manifest in plan.manifests:
        kube.apply(manifest)
    try:
        final = wait_for_rollout(kube, spec.name, spec.namespace, timeout, track)
    except RolloutFailed as exc:
        reason = f"rollout of {spec.image} failed: {exc}"
        try:
            result.rolled_back_to = rollback(kube, spec.name, spec.namespace, reason)
        except RolloutFailed as undo_exc:
            result.message = f"{reason}; no rollback: {undo_exc}"
            return result
        result.message = f"{reason}; rolled back to revision {result.rolled_back_to}"
        return result
    result.ok = True
    result.message = f"{spec.namespace}/{spec.name} rolled out: {final.describe()}"
    clear_rollback_reason(kube, spec)
    return result


def clear_rollback_reason(kube: Kube, spec: AppSpec) -> None:
    """Drop the reason of an earlier rollback once a deploy succeeds, so ``tsdev status`` does not
    report an old failure as the current state."""
    live = kube.get("apps/v1", "Deployment", spec.name, spec.namespace)
    if live and ROLLBACK_REASON in (live["metadata"].get("annotations") or {}):
        kube.patch_merge(
            "apps/v1",
            "Deployment",
            spec.name,
            spec.namespace,
            {"metadata": {"annotations": {ROLLBACK_REASON: None}}},
        )


@dataclass(frozen=True)
class AppStatus:
    name: str
    namespace: str
    image: str
    revision: int
    progress: RolloutProgress
    hpa: dict[str, Any] | None
    rollback_reason: str

    def as_json(self) -> dict[str, Any]:
        hpa = None
        if self.hpa is not None:
            hpa = {
                "api_version": self.hpa.get("apiVersion"),
                "min_replicas": self.hpa["spec"].get("minReplicas"),
                "max_replicas": self.hpa["spec"].get("maxReplicas"),
                "current_replicas": (self.hpa.get("status") or {}).get("currentReplicas"),
                "desired_replicas": (self.hpa.get("status") or {}).get("desiredReplicas"),
            }
        p = self.progress
        return {
            "name": self.name,
            "namespace": self.namespace,
            "image": self.image,
            "revision": self.revision,
            "replicas": {
                "desired": p.desired,
                "updated": p.updated,
                "ready": p.ready,
                "available": p.available,
            },
            "rollout_complete": p.complete,
            "hpa": hpa,
            "rollback_reason": self.rollback_reason or None,
        }


def app_status(kube: Kube, name: str, namespace: str) -> AppStatus | None:
    from tsdev.platform.rollout import progress_of, revision_of

    deployment = kube.get("apps/v1", "Deployment", name, namespace)
    if deployment is None:
        return None
    containers = deployment["spec"]["template"]["spec"]["containers"]
    annotations = deployment["metadata"].get("annotations") or {}
    return AppStatus(
        name=name,
        namespace=namespace,
        image=containers[0]["image"] if containers else "",
        revision=revision_of(deployment),
        progress=progress_of(deployment),
        hpa=kube.get(kube.hpa_version, "HorizontalPodAutoscaler", name, namespace),
        rollback_reason=annotations.get(ROLLBACK_REASON, ""),
    )
