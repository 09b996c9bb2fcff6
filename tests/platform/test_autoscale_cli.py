"""``tsdev autoscale --once`` end to end: stored forecast -> API -> HPA floor -> decision in the API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import yaml
from typer.testing import CliRunner

from tests.platform.builders import store_forecast
from tests.support.kube import KubeCluster
from tests.support.server import InProcessServer
from tsdev.cli.main import app as cli


def test_autoscale_once_raises_the_floor_from_the_served_forecast(
    cluster: KubeCluster, server: InProcessServer, tmp_path: Path
) -> None:
    store_forecast(server.store, datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5))
    spec = {
        "name": "web",
        "image": "example/web:1",
        "scaling": {"min_replicas": 1, "max_replicas": 10, "target_rps_per_replica": 2, "quantile": 0.9},
    }
    path = tmp_path / "tsdev.yaml"
    path.write_text(yaml.safe_dump(spec))
    common = [
        "--namespace",
        cluster.namespace,
        "--kubeconfig",
        str(cluster.kubeconfig),
        "--server",
        server.api_url,
    ]
    runner = CliRunner()
    deployed = runner.invoke(cli, ["deploy", str(path), "--no-forecast", "--timeout", "90", *common])
    assert deployed.exit_code == 0, deployed.output
    ran = runner.invoke(
        cli, ["autoscale", str(path), "--once", "--lease-namespace", cluster.namespace, *common]
    )
    assert ran.exit_code == 0, ran.output
    decision = json.loads(ran.stdout.strip().splitlines()[-1])
    assert (decision["desired"], decision["applied"], decision["target"]) == (5, 5, "hpa")  # 9 rps / 2
    hpa = cluster.connect().get("autoscaling/v2beta2", "HorizontalPodAutoscaler", "web", cluster.namespace)
    assert hpa is not None and hpa["spec"]["minReplicas"] == 5
    served = httpx.get(f"{server.api_url}/api/v1/scaling/web").json()["decisions"]
    assert [d["applied"] for d in served] == [5]
