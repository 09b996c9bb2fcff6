"""Waiting for a Deployment's rollout, and undoing it.

Rollout is complete, as ``kubectl rollout status`` judges it, when the controller has observed the new
generation and every desired replica is updated and available; it has failed when the controller
reports ``ProgressDeadlineExceeded`` or the caller's timeout passes first. Rollback puts the pod
template of the previous revision's ReplicaSet back, which is what ``kubectl rollout undo`` does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tsdev.platform.kube import FIELD_MANAGER, Kube

REVISION = "deployment.kubernetes.io/revision"
ROLLBACK_REASON = "tsdev.dev/rollback-reason"


@dataclass(frozen=True)
class RolloutProgress:
    desired: int
    updated: int
    ready: int
    available: int
    observed: bool
    message: str = ""

    @property
    def complete(self) -> bool:
        return (
            self.observed
            and self.updated >= self.desired
            and self.available >= self.desired
            and self.ready >= self.desired
        )

    def describe(self) -> str:
        return f"{self.updated}/{self.desired} updated, {self.ready} ready, {self.available} available"


class RolloutFailed(RuntimeError):
    """The rollout did not complete; ``str()`` says why."""


def progress_of(deployment: dict[str, Any]) -> RolloutProgress:
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    meta = deployment.get("metadata") or {}
    message = ""
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
            message = condition.get("message") or "progress deadline exceeded"
    return RolloutProgress(
        desired=int(spec.get("replicas") or 0),
        updated=int(status.get("updatedReplicas") or 0),
        ready=int(status.get("readyReplicas") or 0),
        available=int(status.get("availableReplicas") or 0),
        observed=int(status.get("observedGeneration") or 0) >= int(meta.get("generation") or 0),
        message=message,
    )


def wait_for_rollout(
    kube: Kube,
    name: str,
    namespace: str,
    timeout: float,
    on_progress: Callable[[RolloutProgress], None] = lambda _: None,
    poll: float = 0.5,
) -> RolloutProgress:
    """Poll until the rollout completes, or raise :class:`RolloutFailed` with the reason."""
    deadline = time.monotonic() + timeout
    last: RolloutProgress | None = None
    while True:
        deployment = kube.get("apps/v1", "Deployment", name, namespace)
        if deployment is None:
            raise RolloutFailed(f"deployment {namespace}/{name} disappeared during the rollout")
        progress = progress_of(deployment)
        if progress != last:
            on_progress(progress)
            last = progress
        if progress.complete:
            return progress
        if progress.message:
            raise RolloutFailed(f"{progress.message} ({progress.describe()})")
        if time.monotonic() >= deadline:
            raise RolloutFailed(f"not complete after {timeout:g} s: {progress.describe()}")
        time.sleep(poll)


def _replica_sets(kube: Kube, deployment: dict[str, Any]) -> list[dict[str, Any]]:
    uid = deployment["metadata"]["uid"]
    selector = ",".join(f"{k}={v}" for k, v in deployment["spec"]["selector"]["matchLabels"].items())
    found = kube.list("apps/v1", "ReplicaSet", deployment["metadata"]["namespace"], selector)
    return [
        rs for rs in found if any(o.get("uid") == uid for o in rs["metadata"].get("ownerReferences") or [])
    ]


def revision_of(obj: dict[str, Any]) -> int:
    return int(((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION, "0"))


def rollback(kube: Kube, name: str, namespace: str, reason: str) -> int:
    """Restore the pod template of the revision before the current one; returns that revision.

    A JSON patch replaces ``spec.template`` whole, as ``kubectl rollout undo`` does, so fields the failed
    template added do not survive; the reason is kept in an annotation for ``tsdev status``."""
    deployment = kube.get("apps/v1", "Deployment", name, namespace)
    if deployment is None:
        raise RolloutFailed(f"deployment {namespace}/{name} not found")
    current = revision_of(deployment)
    older = sorted(
        (rs for rs in _replica_sets(kube, deployment) if 0 < revision_of(rs) < current),
        key=revision_of,
    )
    if not older:
        raise RolloutFailed(f"deployment {namespace}/{name} has no earlier revision to roll back to")
    previous = older[-1]
    template = previous["spec"]["template"]
    template["metadata"]["labels"].pop("pod-template-hash", None)
    patch = [
        {"op": "replace", "path": "/spec/template", "value": template},
        {
            "op": "add",
            "path": "/metadata/annotations/" + ROLLBACK_REASON.replace("/", "~1"),
            "value": reason[:1000],
        },
    ]
    kube.apps.patch_namespaced_deployment(name, namespace, patch, field_manager=FIELD_MANAGER)
    return revision_of(previous)
