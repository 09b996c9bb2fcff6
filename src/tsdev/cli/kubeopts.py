"""Options shared by the commands that talk to Kubernetes (deploy, rollback, status, autoscale)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tsdev.cli.output import EXIT_UNAVAILABLE, abort

if TYPE_CHECKING:
    from tsdev.platform.kube import Kube

KubeconfigOption = Annotated[
    str | None,
    typer.Option(
        "--kubeconfig",
        help="Kubeconfig file [env: KUBECONFIG; default ~/.kube/config, or the in-cluster service account]",
    ),
]
ContextOption = Annotated[str | None, typer.Option("--context", help="Kubeconfig context [default: current]")]
NamespaceOption = Annotated[
    str | None, typer.Option("--namespace", "-n", help="Namespace [default: the spec's, else default]")
]


def connect(kubeconfig: str | None, context: str | None) -> Kube:
    """A connected cluster, or exit 3 with what to fix."""
    from tsdev.platform.kube import Kube

    try:
        return Kube.connect(kubeconfig, context)
    except Exception as exc:
        abort(f"cannot load a Kubernetes configuration: {exc}", EXIT_UNAVAILABLE)
