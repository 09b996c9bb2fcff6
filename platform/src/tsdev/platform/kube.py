"""The one place that talks to the Kubernetes API: connection, discovery, server-side apply.

Objects are handled as plain dicts through the dynamic client, so the HPA can be applied in whichever
``autoscaling`` version the server serves and KEDA's custom resource needs no generated model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError

from tsdev.platform.manifests import Manifest, choose_hpa_version

logger = logging.getLogger(__name__)

FIELD_MANAGER = "tsdev"
"""Server-side apply field manager of every change tsdev makes, so ``kubectl`` shows who owns what."""


class KubeError(RuntimeError):
    """The API server refused or could not be reached; the message says which object and why."""


def load_api_client(kubeconfig: str | None = None, context: str | None = None) -> client.ApiClient:
    """An API client from ``kubeconfig`` (or ``KUBECONFIG`` / ``~/.kube/config``), falling back to the
    in-cluster service account when no kubeconfig exists, as the autoscaler runs as a Deployment."""
    configuration = client.Configuration()
    try:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, context=context, client_configuration=configuration
        )
    except config.ConfigException:
        if kubeconfig:
            raise
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    return client.ApiClient(configuration)


@dataclass
class Kube:
    """A connected cluster: typed APIs where they are stable, dynamic resources where the version varies."""

    api: client.ApiClient

    @classmethod
    def connect(cls, kubeconfig: str | None = None, context: str | None = None) -> Kube:
        return cls(load_api_client(kubeconfig, context))

    @cached_property
    def dynamic(self) -> DynamicClient:
        return DynamicClient(self.api)  # type: ignore[no-untyped-call]

    @cached_property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @cached_property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @cached_property
    def coordination(self) -> client.CoordinationV1Api:
        return client.CoordinationV1Api(self.api)

    def served_versions(self, group: str) -> set[str]:
        """``group/version`` strings the server serves for ``group``."""
        groups = client.ApisApi(self.api).get_api_versions().groups
        return {v.group_version for g in groups if g.name == group for v in g.versions}

    @cached_property
    def hpa_version(self) -> str:
        return choose_hpa_version(self.served_versions("autoscaling"))

    def serves(self, api_version: str) -> bool:
        group = api_version.split("/")[0]
        return api_version in self.served_versions(group)

    def _resource(self, api_version: str, kind: str) -> Any:
        try:
            return self.dynamic.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError as exc:
            raise KubeError(f"the API server does not serve {kind} in {api_version}") from exc

    def get(self, api_version: str, kind: str, name: str, namespace: str) -> dict[str, Any] | None:
        """The live object as a dict, or ``None`` when it does not exist."""
        resource = self._resource(api_version, kind)
        try:
            obj = resource.get(name=name, namespace=namespace)
        except NotFoundError:
            return None
        result: dict[str, Any] = obj.to_dict()
        return result

    def list(
        self, api_version: str, kind: str, namespace: str, label_selector: str = ""
    ) -> list[dict[str, Any]]:
        """Objects of ``kind`` in ``namespace`` as dicts."""
        resource = self._resource(api_version, kind)
        found = resource.get(namespace=namespace, label_selector=label_selector or None)
        return [item.to_dict() for item in found.items]

    def apply(self, manifest: Manifest, *, dry_run: bool = False) -> dict[str, Any]:
        """Server-side apply ``manifest`` as field manager ``tsdev``; with ``dry_run`` the server computes
        the result without storing it (that result is what ``--dry-run`` diffs against the live object)."""
        meta = manifest["metadata"]
        resource = self._resource(manifest["apiVersion"], manifest["kind"])
        kwargs: dict[str, Any] = {"field_manager": FIELD_MANAGER, "force_conflicts": True}
        if dry_run:
            kwargs["dry_run"] = "All"
        try:
            obj = resource.server_side_apply(
                body=manifest, name=meta["name"], namespace=meta.get("namespace"), **kwargs
            )
        except ApiException as exc:
            raise KubeError(f"applying {manifest['kind']} {meta['name']} failed: {_reason(exc)}") from exc
        result: dict[str, Any] = obj.to_dict()
        return result

    def patch_merge(
        self, api_version: str, kind: str, name: str, namespace: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """A merge patch of one field set (the autoscaler's floor), leaving every other field alone."""
        resource = self._resource(api_version, kind)
        try:
            obj = resource.patch(
                name=name,
                namespace=namespace,
                body=body,
                content_type="application/merge-patch+json",
                field_manager=FIELD_MANAGER,
            )
        except ApiException as exc:
            raise KubeError(f"patching {kind} {name} failed: {_reason(exc)}") from exc
        result: dict[str, Any] = obj.to_dict()
        return result


def _reason(exc: ApiException) -> str:
    import json

    try:
        body = json.loads(exc.body or "")
        return str(body.get("message") or exc.reason)
    except (TypeError, ValueError):
        return str(exc.reason)
