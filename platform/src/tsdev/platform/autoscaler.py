"""The predictive autoscaler's control loop.

Each tick, for each managed app: read the forecast quantile at now + lead, turn it into a floor with
:func:`~tsdev.platform.policy.decide`, and apply it where it takes effect: the HPA's ``minReplicas``
(the reactive HPA still answers surprises above the forecast), or the Deployment's scale subresource
when there is no HPA, or nowhere for KEDA apps (KEDA polls the stored value). Every decision is
recorded, dry runs included, so the API can say why an app had the pods it had.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes.client.exceptions import ApiException

from tsdev.platform.decisions import DecisionRecord, DecisionSink
from tsdev.platform.forecast_source import ForecastSource, peak_over
from tsdev.platform.kube import FIELD_MANAGER, Kube, KubeError
from tsdev.platform.lead import learned_lead_seconds
from tsdev.platform.leader import LeaseElector
from tsdev.platform.policy import Decision, Recommendations, decide
from tsdev.platform.spec import AppSpec

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 30.0
QUIET_QUANTILE = 0.95
"""The upper quantile that must stay under the quiet threshold before KEDA may go to zero."""


@dataclass
class _Managed:
    spec: AppSpec
    history: Recommendations
    keda_floor: int


class Autoscaler:
    def __init__(
        self,
        kube: Kube,
        source: ForecastSource,
        sink: DecisionSink,
        specs: Sequence[AppSpec],
        *,
        dry_run: bool = False,
        elector: LeaseElector | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.kube = kube
        self.source = source
        self.sink = sink
        self.dry_run = dry_run
        self.elector = elector
        self._clock = clock
        self._apps = [
            _Managed(
                s,
                Recommendations(timedelta(seconds=s.scaling.scale_down_stabilization_seconds)),
                s.scaling.min_replicas,
            )
            for s in specs
        ]
        self._seeded: set[str] = set()

    def tick(self) -> list[Decision]:
        """One round over every app; nothing is decided unless this replica leads."""
        if self.elector is not None and not self.elector.try_acquire_or_renew():
            return []
        decisions: list[Decision] = []
        for app in self._apps:
            try:
                decision = self._tick_app(app)
            except (KubeError, ApiException) as exc:
                logger.warning("scaling %s skipped this tick: %s", app.spec.name, exc)
                continue
            if decision is not None:
                decisions.append(decision)
        self.sink.write([DecisionRecord.of(d) for d in decisions])
        return decisions

    def run(self, stop: threading.Event, interval: float = DEFAULT_INTERVAL_SECONDS) -> None:
        """Tick every ``interval`` seconds until ``stop`` is set, then give up the lease."""
        try:
            while not stop.is_set():
                try:
                    self.tick()
                except Exception:
                    logger.exception("autoscaler tick failed")
                stop.wait(interval)
        finally:
            if self.elector is not None:
                self.elector.release()

    def _current(self, spec: AppSpec) -> tuple[str, int, int, dict[str, Any] | None] | None:
        """Where the floor lives (``hpa``, ``scale`` or ``keda``), its value, the running replicas."""
        deployment = self.kube.get("apps/v1", "Deployment", spec.name, spec.namespace)
        if deployment is None:
            return None
        replicas = int(
            (deployment.get("status") or {}).get("replicas") or deployment["spec"].get("replicas") or 0
        )
        if spec.scaling.keda.enabled:
            return "keda", -1, replicas, None
        hpa = self.kube.get(self.kube.hpa_version, "HorizontalPodAutoscaler", spec.name, spec.namespace)
        if hpa is not None:
            return "hpa", int(hpa["spec"].get("minReplicas") or 1), replicas, hpa
        return "scale", int(deployment["spec"].get("replicas") or 0), replicas, None

    def _tick_app(self, app: _Managed) -> Decision | None:
        spec, s = app.spec, app.spec.scaling
        current = self._current(spec)
        if current is None:
            logger.info("%s/%s has no Deployment yet; nothing to scale", spec.namespace, spec.name)
            return None
        target, floor, replicas, _ = current
        if target == "keda":
            floor = app.keda_floor
        now = self._clock()
        if spec.name not in self._seeded:
            # A restarted (or newly elected) autoscaler must not treat the floor it finds as unheld:
            # seeding the window with it makes scale-down wait the full stabilization window.
            app.history.add(now, floor)
            self._seeded.add(spec.name)
        service = spec.forecast_service
        lead = s.lead_seconds
        if s.learn_lead:
            pods = self.kube.list("v1", "Pod", spec.namespace, f"app.kubernetes.io/name={spec.name}")
            lead = learned_lead_seconds(pods, s.lead_seconds)
        forecast = self.source.quantile_at(service, now + timedelta(seconds=lead), s.quantile)
        quiet = None
        if s.keda.enabled and s.keda.allow_zero:
            quiet = peak_over(
                self.source, service, now, now + timedelta(seconds=s.keda.quiet_window_seconds),
                max(s.quantile, QUIET_QUANTILE), timedelta(seconds=60),
            )  # fmt: skip
        decision = decide(
            now=now,
            app=spec.name,
            namespace=spec.namespace,
            scaling=s,
            forecast=forecast,
            quiet_peak=quiet,
            current_floor=floor,
            current_replicas=replicas,
            history=app.history,
        )
        decision = replace(decision, target=target, dry_run=self.dry_run)
        if self.dry_run:
            logger.info(
                "dry run: %s %s floor %s -> %s (%s)",
                spec.name,
                target,
                floor,
                decision.applied,
                decision.reason,
            )
        elif decision.applied != floor:
            self._apply(spec, target, decision.applied)
        if target == "keda":
            app.keda_floor = decision.applied
        return decision

    def _apply(self, spec: AppSpec, target: str, replicas: int) -> None:
        if target == "hpa":
            self.kube.patch_merge(
                self.kube.hpa_version, "HorizontalPodAutoscaler", spec.name, spec.namespace,
                {"spec": {"minReplicas": replicas}},
            )  # fmt: skip
        elif target == "scale":
            self.kube.apps.patch_namespaced_deployment_scale(
                spec.name, spec.namespace, {"spec": {"replicas": replicas}}, field_manager=FIELD_MANAGER
            )
        logger.info(
            "%s: %s set to %s", spec.name, "HPA minReplicas" if target == "hpa" else "replicas", replicas
        )
