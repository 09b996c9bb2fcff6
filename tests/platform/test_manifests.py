"""Rendering: the Deployment's probes, resources and graceful shutdown, the HPA per API version, KEDA."""

from __future__ import annotations

import pytest

from tsdev.platform.manifests import (
    choose_hpa_version,
    render_all,
    render_deployment,
    render_hpa,
    render_scaled_object,
)
from tsdev.platform.spec import AppSpec, parse_spec


def _spec(**scaling: object) -> AppSpec:
    return parse_spec(
        {
            "name": "checkout",
            "image": "acme/checkout:1",
            "namespace": "shop",
            "port": 9000,
            "env": {"B": "2", "A": "1"},
            "secrets": [{"name": "TOKEN", "secret": "api", "key": "token"}],
            "shutdown_grace_seconds": 40,
            "pre_stop_sleep_seconds": 10,
            "scaling": {"min_replicas": 2, "max_replicas": 9, "target_rps_per_replica": 12.5, **scaling},
        }
    )


def test_deployment_has_probes_resources_and_graceful_shutdown() -> None:
    d = render_deployment(_spec(), replicas=4)
    assert d["spec"]["replicas"] == 4
    pod = d["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 40
    (c,) = pod["containers"]
    assert c["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "10"]
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["ports"] == [{"name": "http", "containerPort": 9000, "protocol": "TCP"}]
    assert c["resources"]["requests"] == {"cpu": "100m", "memory": "128Mi"}
    assert c["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "2"},
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}},
    ]
    assert d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert d["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "checkout"}


@pytest.mark.parametrize("version", ["autoscaling/v2", "autoscaling/v2beta2"])
def test_hpa_v2_family_carries_the_rps_target_and_stabilization(version: str) -> None:
    hpa = render_hpa(_spec(target_cpu_percent=70), version, min_replicas=5)
    assert hpa["apiVersion"] == version
    spec = hpa["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (5, 9)
    assert spec["metrics"][0]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
    assert spec["metrics"][1]["pods"]["target"] == {"type": "AverageValue", "averageValue": "12500m"}
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300


def test_hpa_v1_falls_back_to_cpu_and_the_floor_stays_within_bounds() -> None:
    hpa = render_hpa(_spec(), "autoscaling/v1", min_replicas=50)
    assert hpa["spec"]["targetCPUUtilizationPercentage"] == 80
    assert "metrics" not in hpa["spec"]
    assert hpa["spec"]["minReplicas"] == 9


def test_version_negotiation_prefers_the_newest_served() -> None:
    assert choose_hpa_version({"autoscaling/v1", "autoscaling/v2beta2", "autoscaling/v2"}) == "autoscaling/v2"
    assert choose_hpa_version({"autoscaling/v1", "autoscaling/v2beta1", "autoscaling/v2beta2"}) == (
        "autoscaling/v2beta2"
    )
    assert choose_hpa_version({"autoscaling/v1"}) == "autoscaling/v1"
    with pytest.raises(LookupError):
        choose_hpa_version({"autoscaling/v2beta1"})


def test_keda_replaces_the_hpa_and_reads_the_scaling_endpoint() -> None:
    spec = _spec(keda={"enabled": True, "allow_zero": True})
    kinds = [
        m["kind"]
        for m in render_all(spec, replicas=2, hpa_version="autoscaling/v2", server="http://tsdev:8080/")
    ]
    assert kinds == ["Deployment", "Service", "ScaledObject"]
    so = render_scaled_object(spec, "http://tsdev:8080")
    assert so["spec"]["minReplicaCount"] == 0
    (trigger,) = so["spec"]["triggers"]
    assert trigger["type"] == "metrics-api"
    assert trigger["metadata"]["url"] == "http://tsdev:8080/api/v1/scaling/checkout/keda"
    assert trigger["metadata"]["valueLocation"] == "value"
    assert render_scaled_object(_spec(keda={"enabled": True}), "x")["spec"]["minReplicaCount"] == 2
