"""``tsdev deploy``, ``tsdev rollback`` and ``tsdev status``: the deploy pipeline from the command line.

Exit codes: 0 deployed (or dry run printed), 1 the rollout failed (rolled back when possible), 2 the
spec is invalid, 3 the cluster cannot be reached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tsdev.cli.client import DEFAULT_SERVER, ServerOption
from tsdev.cli.kubeopts import ContextOption, KubeconfigOption, NamespaceOption, connect
from tsdev.cli.output import EXIT_FAILURE, EXIT_UNAVAILABLE, EXIT_USAGE, abort, data, info


def deploy(
    spec_path: Annotated[Path, typer.Argument(metavar="SPEC", help="The app spec (YAML)")],
    image: Annotated[
        str | None, typer.Option("--image", help="Image to deploy instead of the spec's")
    ] = None,
    namespace: NamespaceOption = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print the manifests and the diff against the cluster; change nothing"
        ),
    ] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for the rollout")] = 300.0,
    use_forecast: Annotated[
        bool, typer.Option("--forecast/--no-forecast", help="Start with the replicas the forecast needs")
    ] = True,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
    server: ServerOption = DEFAULT_SERVER,
) -> None:
    """Render, apply (server-side, field manager tsdev) and roll out an app; roll back if it fails."""
    from tsdev.platform.deploy import deploy as run_deploy
    from tsdev.platform.deploy import diff_against_cluster, plan_deploy, to_yaml
    from tsdev.platform.forecast_source import HttpForecastSource
    from tsdev.platform.kube import KubeError
    from tsdev.platform.spec import SpecError, load_spec

    try:
        spec = load_spec(spec_path).with_overrides(image=image, namespace=namespace)
    except SpecError as exc:
        abort(str(exc), EXIT_USAGE)
    kube = connect(kubeconfig, context)
    source = HttpForecastSource(server) if use_forecast and spec.scaling.predictive else None
    try:
        plan = plan_deploy(kube, spec, source, server=server)
        info(f"starting replicas {plan.replicas} ({plan.reason}); HPA as {plan.hpa_version}")
        if dry_run:
            data(to_yaml(plan.manifests))
            data(diff_against_cluster(kube, plan))
            return
        result = run_deploy(
            kube, plan, timeout=timeout, on_progress=lambda p: info(f"  rollout: {p.describe()}")
        )
    except KubeError as exc:
        abort(str(exc), EXIT_UNAVAILABLE)
    finally:
        if source is not None:
            source.close()
    if not result.ok:
        abort(result.message, EXIT_FAILURE)
    data(result.message)


def rollback(
    app: Annotated[str, typer.Argument(help="App (Deployment) name")],
    namespace: NamespaceOption = None,
    reason: Annotated[str, typer.Option("--reason", help="Why, kept on the Deployment")] = "manual rollback",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for the rollout")] = 300.0,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
) -> None:
    """Put the previous revision's pod template back and wait for it to roll out."""
    from tsdev.platform.kube import KubeError
    from tsdev.platform.rollout import RolloutFailed, wait_for_rollout
    from tsdev.platform.rollout import rollback as run_rollback

    kube = connect(kubeconfig, context)
    ns = namespace or "default"
    try:
        revision = run_rollback(kube, app, ns, reason)
        wait_for_rollout(kube, app, ns, timeout, lambda p: info(f"  rollout: {p.describe()}"))
    except RolloutFailed as exc:
        abort(str(exc), EXIT_FAILURE)
    except KubeError as exc:
        abort(str(exc), EXIT_UNAVAILABLE)
    data(f"{ns}/{app} rolled back to the template of revision {revision}")


def status(
    app: Annotated[str, typer.Argument(help="App (Deployment) name")],
    namespace: NamespaceOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
) -> None:
    """Image, revision, replicas, rollout state and HPA floor of an app."""
    import json

    from tsdev.platform.deploy import app_status

    kube = connect(kubeconfig, context)
    found = app_status(kube, app, namespace or "default")
    if found is None:
        abort(f"no deployment {app} in namespace {namespace or 'default'}", EXIT_FAILURE)
    body = found.as_json()
    if as_json:
        data(json.dumps(body, indent=2))
        return
    r = body["replicas"]
    lines = [
        f"{body['namespace']}/{body['name']}  revision {body['revision']}  image {body['image']}",
        f"replicas: {r['desired']} desired, {r['updated']} updated, {r['ready']} ready,"
        f" {r['available']} available" + ("" if body["rollout_complete"] else "  (rollout in progress)"),
    ]
    if body["hpa"]:
        h = body["hpa"]
        lines.append(f"hpa ({h['api_version']}): min {h['min_replicas']}, max {h['max_replicas']}")
    if body["rollback_reason"]:
        lines.append(f"last rollback: {body['rollback_reason']}")
    data("\n".join(lines))
