"""``tsdev deploy``, rollback and status against a real kube-apiserver 1.20 with its controllers."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from tests.platform.builders import app_spec, constant_forecast
from tests.support.kube import KubeCluster
from tsdev.cli.main import app as cli
from tsdev.platform.deploy import app_status, deploy, diff_against_cluster, plan_deploy
from tsdev.platform.kube import FIELD_MANAGER, Kube


def poll(check: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _deployment(kube: Kube, cluster: KubeCluster, name: str = "web") -> dict[str, Any]:
    found = kube.get("apps/v1", "Deployment", name, cluster.namespace)
    assert found is not None
    return found


def test_the_hpa_version_is_negotiated_down_to_what_1_20_serves(cluster: KubeCluster) -> None:
    kube = cluster.connect()
    served = kube.served_versions("autoscaling")
    assert "autoscaling/v2" not in served
    assert kube.hpa_version == "autoscaling/v2beta2"


def test_deploy_starts_at_the_forecast_need_and_rolls_out(cluster: KubeCluster) -> None:
    kube = cluster.connect()
    spec = app_spec(cluster.namespace)
    plan = plan_deploy(kube, spec, constant_forecast(rps=35.0))
    assert plan.replicas == 4  # 35 rps at 10 per replica
    assert "needs 4" in plan.reason
    seen: list[str] = []
    result = deploy(kube, plan, timeout=90, on_progress=lambda p: seen.append(p.describe()))
    assert result.ok, result.message
    assert seen[-1] == "4/4 updated, 4 ready, 4 available"
    live = _deployment(kube, cluster)
    assert live["spec"]["replicas"] == 4
    managers = {m["manager"] for m in live["metadata"]["managedFields"] if m["operation"] == "Apply"}
    assert managers == {FIELD_MANAGER}
    hpa = kube.get("autoscaling/v2beta2", "HorizontalPodAutoscaler", "web", cluster.namespace)
    assert hpa is not None and hpa["spec"]["minReplicas"] == 4
    assert kube.get("v1", "Service", "web", cluster.namespace) is not None
    status = app_status(kube, "web", cluster.namespace)
    assert status is not None and status.progress.complete and status.revision == 1


def test_a_failed_rollout_rolls_back_and_says_why(cluster: KubeCluster) -> None:
    kube = cluster.connect()
    first = deploy(kube, plan_deploy(kube, app_spec(cluster.namespace, min_replicas=2), None), timeout=90)
    assert first.ok, first.message
    broken = app_spec(cluster.namespace, image="example/web:unready", min_replicas=2)
    result = deploy(kube, plan_deploy(kube, broken, None), timeout=5)
    assert not result.ok
    assert "rollout of example/web:unready failed: not complete after 5 s" in result.message
    assert result.rolled_back_to == 1
    assert _deployment(kube, cluster)["spec"]["template"]["spec"]["containers"][0]["image"] == "example/web:1"
    status = poll(
        lambda: (s := app_status(kube, "web", cluster.namespace)) and s.progress.complete and s,
        what="the rolled-back revision to be available",
    )
    assert status.revision == 3
    assert "example/web:unready" in status.rollback_reason
    assert deploy(
        kube, plan_deploy(kube, app_spec(cluster.namespace, image="example/web:2"), None), timeout=90
    ).ok
    after = app_status(kube, "web", cluster.namespace)
    assert after is not None and after.rollback_reason == "" and after.image == "example/web:2"


def test_dry_run_shows_the_diff_and_changes_nothing(cluster: KubeCluster) -> None:
    kube = cluster.connect()
    assert deploy(kube, plan_deploy(kube, app_spec(cluster.namespace), None), timeout=90).ok
    plan = plan_deploy(kube, app_spec(cluster.namespace, image="example/web:2"), None)
    diff = diff_against_cluster(kube, plan)
    assert "-      - image: example/web:1\n" in diff
    assert "+      - image: example/web:2\n" in diff
    assert "# Service/web: unchanged" in diff
    assert "# HorizontalPodAutoscaler/web: unchanged" in diff
    assert _deployment(kube, cluster)["spec"]["template"]["spec"]["containers"][0]["image"] == "example/web:1"


def test_the_cli_deploys_shows_status_and_rolls_back(cluster: KubeCluster, tmp_path: Path) -> None:
    spec_path = tmp_path / "tsdev.yaml"
    spec_path.write_text(
        yaml.safe_dump(
            {
                "name": "api",
                "image": "example/api:1",
                "scaling": {"target_cpu_percent": 70, "predictive": False},
            }
        )
    )
    common = ["--namespace", cluster.namespace, "--kubeconfig", str(cluster.kubeconfig)]
    runner = CliRunner()
    dry = runner.invoke(cli, ["deploy", str(spec_path), "--dry-run", *common])
    assert dry.exit_code == 0, dry.output
    assert "kind: HorizontalPodAutoscaler" in dry.output and "apiVersion: autoscaling/v2beta2" in dry.output
    for image in ("example/api:1", "example/api:2"):
        done = runner.invoke(cli, ["deploy", str(spec_path), "--image", image, "--timeout", "90", *common])
        assert done.exit_code == 0, done.output
        assert "rolled out: 1/1 updated" in done.output
    status = runner.invoke(cli, ["status", "api", *common])
    assert status.exit_code == 0, status.output
    assert "revision 2  image example/api:2" in status.output
    back = runner.invoke(cli, ["rollback", "api", "--reason", "bad release", *common])
    assert back.exit_code == 0, back.output
    status = runner.invoke(cli, ["status", "api", *common])
    assert "image example/api:1" in status.output and "last rollback: bad release" in status.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: api\nimage: x\nscaling: {min_replicas: 0, target_cpu_percent: 70, predictive: false}\n"
    )
    refused = runner.invoke(cli, ["deploy", str(bad), *common])
    assert refused.exit_code == 2
    assert "scaling.min_replicas" in refused.output
