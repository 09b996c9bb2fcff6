"""The autoscaler against a real kube-apiserver: the HPA floor, the scale patch, fallbacks, leadership."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.platform.builders import app_spec, constant_forecast
from tests.platform.test_deploy_kube import poll
from tests.support.kube import KubeCluster
from tests.support.server import InProcessServer
from tsdev.platform.autoscaler import Autoscaler
from tsdev.platform.decisions import DecisionRecord, StoreDecisionSink
from tsdev.platform.deploy import deploy, plan_deploy
from tsdev.platform.kube import Kube
from tsdev.platform.leader import LeaseElector
from tsdev.platform.manifests import render_deployment
from tsdev.platform.spec import AppSpec

HPA = "HorizontalPodAutoscaler"


class ListSink:
    def __init__(self) -> None:
        self.records: list[DecisionRecord] = []

    def write(self, records: list[DecisionRecord]) -> None:
        self.records.extend(records)


def _deployed(kube: Kube, spec: AppSpec) -> None:
    result = deploy(kube, plan_deploy(kube, spec, None), timeout=90)
    assert result.ok, result.message


def _hpa_floor(kube: Kube, spec: AppSpec) -> int:
    hpa = kube.get(kube.hpa_version, HPA, spec.name, spec.namespace)
    assert hpa is not None
    return int(hpa["spec"]["minReplicas"])


def test_the_forecast_raises_the_hpa_floor_and_the_hpa_scales_to_it(
    cluster: KubeCluster, server: InProcessServer
) -> None:
    import httpx

    kube = cluster.connect()
    spec = app_spec(cluster.namespace, min_replicas=2)
    _deployed(kube, spec)
    scaler = Autoscaler(kube, constant_forecast(rps=75.0), StoreDecisionSink(server.store), [spec])
    (decision,) = scaler.tick()
    assert (decision.desired, decision.applied, decision.target) == (8, 8, "hpa")
    assert _hpa_floor(kube, spec) == 8
    # The real HPA controller enforces its minReplicas on the Deployment: the floor takes effect.
    poll(
        lambda: (
            (d := kube.get("apps/v1", "Deployment", "web", cluster.namespace)) and d["spec"]["replicas"] == 8
        ),
        what="the HPA controller to scale the Deployment to the floor",
    )
    body = httpx.get(f"{server.api_url}/api/v1/scaling/web").json()
    (served,) = body["decisions"]
    assert served["applied"] == 8 and served["current_floor"] == 2
    assert served["reason"].startswith("q0.9 forecast 75.0 rps")
    assert httpx.get(f"{server.api_url}/api/v1/scaling/web/keda").json()["value"] == 8.0


def test_without_an_hpa_the_deployment_scale_is_patched(cluster: KubeCluster) -> None:
    kube = cluster.connect()
    spec = app_spec(cluster.namespace, name="worker", max_replicas=5)
    kube.apply(render_deployment(spec, replicas=1))
    sink = ListSink()
    scaler = Autoscaler(kube, constant_forecast(rps=200.0, service="worker"), sink, [spec])
    (decision,) = scaler.tick()
    assert decision.target == "scale"
    assert decision.applied == 5  # 20 wanted, never above max
    assert "bounded to [1, 5]" in decision.reason
    deployment = kube.get("apps/v1", "Deployment", "worker", cluster.namespace)
    assert deployment is not None and deployment["spec"]["replicas"] == 5
    assert sink.records[0].applied == 5


def test_a_stale_forecast_drops_the_floor_back_to_min(cluster: KubeCluster) -> None:
    kube = cluster.connect()
    spec = app_spec(cluster.namespace, min_replicas=2, max_forecast_age_seconds=600)
    _deployed(kube, spec)
    Autoscaler(kube, constant_forecast(rps=60.0), ListSink(), [spec]).tick()
    assert _hpa_floor(kube, spec) == 6
    old = datetime.now(UTC) - timedelta(hours=2)
    (decision,) = Autoscaler(kube, constant_forecast(rps=60.0, fitted_at=old), ListSink(), [spec]).tick()
    assert decision.applied == 2 and "stale" in decision.reason
    assert _hpa_floor(kube, spec) == 2


def test_dry_run_records_but_changes_nothing(cluster: KubeCluster) -> None:
    kube = cluster.connect()
    spec = app_spec(cluster.namespace, min_replicas=2)
    _deployed(kube, spec)
    sink = ListSink()
    Autoscaler(kube, constant_forecast(rps=90.0), sink, [spec], dry_run=True).tick()
    assert sink.records[0].applied == 9 and sink.records[0].dry_run
    assert _hpa_floor(kube, spec) == 2


def test_only_the_lease_holder_scales(cluster: KubeCluster) -> None:
    kube = cluster.connect()
    spec = app_spec(cluster.namespace, min_replicas=2)
    _deployed(kube, spec)
    clock = [datetime.now(UTC)]

    def elect(who: str) -> LeaseElector:
        return LeaseElector(
            kube.coordination, cluster.namespace, identity=who, lease_seconds=30, clock=lambda: clock[0]
        )

    a, b = elect("a"), elect("b")
    leader = Autoscaler(kube, constant_forecast(rps=30.0), ListSink(), [spec], elector=a)
    standby = Autoscaler(kube, constant_forecast(rps=110.0), ListSink(), [spec], elector=b)
    assert len(leader.tick()) == 1
    assert standby.tick() == []
    assert _hpa_floor(kube, spec) == 3
    clock[0] += timedelta(seconds=20)
    assert a.try_acquire_or_renew() and not b.try_acquire_or_renew()
    clock[0] += timedelta(seconds=31)  # a stopped renewing: its lease expires
    assert len(standby.tick()) == 1
    assert _hpa_floor(kube, spec) == 11
    assert not a.try_acquire_or_renew()
    b.release()
    assert a.try_acquire_or_renew()
    lease = kube.coordination.read_namespaced_lease("tsdev-autoscaler", cluster.namespace)
    assert lease.spec is not None and lease.spec.holder_identity == "a" and lease.spec.lease_transitions == 2


def test_keda_apps_get_zero_in_a_known_quiet_period_and_no_patch(cluster: KubeCluster) -> None:
    kube = cluster.connect()
    keda = {"enabled": True, "allow_zero": True, "quiet_threshold_rps": 1.0, "quiet_window_seconds": 600}
    spec = app_spec(cluster.namespace, name="batch", min_replicas=1, keda=keda)
    kube.apply(render_deployment(spec, replicas=1))
    quiet = Autoscaler(kube, constant_forecast(rps=0.5, service="batch"), ListSink(), [spec]).tick()
    assert (quiet[0].target, quiet[0].keda_value) == ("keda", 0.0)
    assert "quiet period" in quiet[0].reason
    busy = Autoscaler(kube, constant_forecast(rps=35.0, service="batch"), ListSink(), [spec]).tick()
    assert (busy[0].applied, busy[0].keda_value) == (4, 4.0)
    deployment = kube.get("apps/v1", "Deployment", "batch", cluster.namespace)
    assert deployment is not None and deployment["spec"]["replicas"] == 1  # KEDA, not tsdev, scales it
