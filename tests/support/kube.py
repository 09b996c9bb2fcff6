"""A real Kubernetes control plane for tests: etcd, kube-apiserver and kube-controller-manager.

Built once by ``scripts/build-kube.sh`` into ``TSDEV_KUBE_CACHE`` (default ``~/.cache/tsdev/kube``).
There is no kubelet, so :class:`PodReadier` stands in for nodes: it marks pods Running and Ready
through the status subresource, except those whose image contains ``unready`` (how tests make a
rollout fail). Without the namespace controller a deleted namespace would stay Terminating, so every
test gets a namespace with a fresh name instead of cleaning one up.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import yaml

from tests.support.ports import free_port

if TYPE_CHECKING:
    from tsdev.platform.kube import Kube

CACHE = Path(os.environ.get("TSDEV_KUBE_CACHE", str(Path.home() / ".cache" / "tsdev" / "kube")))
APISERVER = CACHE / "bin" / "kube-apiserver"
CONTROLLER_MANAGER = CACHE / "bin" / "kube-controller-manager"
ETCD = shutil.which("etcd") or "/usr/bin/etcd"
TOKEN = "tsdev-test-admin-token"
UNREADY_MARK = "unready"


def missing_binaries() -> str | None:
    """Why the control plane cannot start here, or ``None`` when it can."""
    missing = [str(p) for p in (APISERVER, CONTROLLER_MANAGER) if not p.exists()]
    if not Path(ETCD).exists():
        missing.append("etcd")
    if missing:
        return f"Kubernetes binaries not built ({', '.join(missing)}); run scripts/build-kube.sh"
    return None


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@dataclass
class ControlPlane:
    workdir: Path
    etcd_port: int = field(default_factory=free_port)
    etcd_peer_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    def _spawn(self, name: str, command: list[str]) -> None:
        log = (self.workdir / f"{name}.log").open("ab")
        self.processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def _certificates(self) -> None:
        w = self.workdir
        _openssl(
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", "apiserver.key", "-out", "apiserver.crt",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            cwd=w,
        )  # fmt: skip
        _openssl("genrsa", "-out", "sa.key", "2048", cwd=w)
        (w / "tokens.csv").write_text(f"{TOKEN},admin,admin,system:masters\n")

    def _write_kubeconfig(self) -> None:
        import base64

        ca = base64.b64encode((self.workdir / "apiserver.crt").read_bytes()).decode()
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "test", "cluster": {"server": self.server, "certificate-authority-data": ca}}
            ],
            "users": [{"name": "admin", "user": {"token": TOKEN}}],
            "contexts": [{"name": "test", "context": {"cluster": "test", "user": "admin"}}],
            "current-context": "test",
        }
        self.kubeconfig.write_text(yaml.safe_dump(config))

    def start(self, timeout: float = 120.0) -> ControlPlane:
        w = self.workdir
        self._certificates()
        self._write_kubeconfig()
        self._spawn(
            "etcd",
            [
                ETCD, "--data-dir", str(w / "etcd"), "--name", "test",
                "--listen-client-urls", f"http://127.0.0.1:{self.etcd_port}",
                "--advertise-client-urls", f"http://127.0.0.1:{self.etcd_port}",
                "--listen-peer-urls", f"http://127.0.0.1:{self.etcd_peer_port}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.etcd_peer_port}",
                "--initial-cluster", f"test=http://127.0.0.1:{self.etcd_peer_port}",
                "--unsafe-no-fsync",
            ],
        )  # fmt: skip
        self._spawn(
            "kube-apiserver",
            [
                str(APISERVER),
                f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.api_port}",
                "--insecure-port=0",
                f"--tls-cert-file={w / 'apiserver.crt'}",
                f"--tls-private-key-file={w / 'apiserver.key'}",
                f"--token-auth-file={w / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                f"--service-account-key-file={w / 'sa.key'}",
                f"--service-account-signing-key-file={w / 'sa.key'}",
                "--service-account-issuer=https://kubernetes.default.svc",
                "--service-cluster-ip-range=10.96.0.0/16",
                "--disable-admission-plugins=ServiceAccount",
                f"--cert-dir={w / 'certs'}",
                "--enable-priority-and-fairness=false",
                "--logtostderr=true",
            ],
        )
        self._wait_ready(timeout)
        self._spawn(
            "kube-controller-manager",
            [
                str(CONTROLLER_MANAGER),
                f"--kubeconfig={self.kubeconfig}",
                "--controllers=deployment,replicaset,horizontalpodautoscaling,garbagecollector",
                "--leader-elect=false",
                "--port=0",
                "--secure-port=0",
                "--use-service-account-credentials=false",
                "--horizontal-pod-autoscaler-sync-period=1s",
                "--concurrent-deployment-syncs=10",
                "--logtostderr=true",
            ],
        )
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        headers = {"Authorization": f"Bearer {TOKEN}"}
        while time.monotonic() < deadline:
            for process, name in zip(self.processes, ("etcd", "kube-apiserver"), strict=False):
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.log(name)}")
            try:
                response = httpx.get(f"{self.server}/readyz", headers=headers, verify=False, timeout=2)
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"kube-apiserver not ready:\n{self.log('kube-apiserver')}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class PodReadier:
    """The stand-in for kubelets: marks every pod Running and Ready, unless its image says ``unready``."""

    def __init__(self, kubeconfig: Path) -> None:
        from kubernetes import client

        from tsdev.platform.kube import load_api_client

        self._core = client.CoreV1Api(load_api_client(str(kubeconfig)))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pod-readier", daemon=True)

    def start(self) -> PodReadier:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            # The API server may be shutting down; keep trying until stopped.
            with contextlib.suppress(Exception):
                self._mark_all()
            self._stop.wait(0.2)

    def _mark_all(self) -> None:
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        response = self._core.list_pod_for_all_namespaces(_preload_content=False)
        for pod in json.loads(response.data)["items"]:  # type: ignore[attr-defined]
            meta, containers = pod["metadata"], pod["spec"]["containers"]
            if meta.get("deletionTimestamp"):
                continue
            if any(UNREADY_MARK in c["image"] for c in containers):
                continue
            conditions = {c["type"]: c["status"] for c in pod.get("status", {}).get("conditions") or []}
            if conditions.get("Ready") == "True":
                continue
            ready = [
                {"type": t, "status": "True", "lastTransitionTime": now}
                for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
            ]
            statuses = [
                {
                    "name": c["name"],
                    "image": c["image"],
                    "imageID": "",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": now}},
                }
                for c in containers
            ]
            body = {
                "status": {
                    "phase": "Running",
                    "conditions": ready,
                    "containerStatuses": statuses,
                    "startTime": now,
                }
            }
            self._core.patch_namespaced_pod_status(meta["name"], meta["namespace"], body)


@dataclass
class KubeCluster:
    """What a test gets: a kubeconfig for ``tsdev.platform.kube`` and a fresh namespace."""

    plane: ControlPlane
    kubeconfig: Path
    namespace: str

    def connect(self) -> Kube:
        from tsdev.platform.kube import Kube

        return Kube.connect(str(self.kubeconfig))


def start_control_plane() -> Iterator[ControlPlane]:
    workdir = Path(tempfile.mkdtemp(prefix="tsdev-kube-"))
    plane = ControlPlane(workdir)
    try:
        plane.start()
        readier = PodReadier(plane.kubeconfig).start()
        try:
            yield plane
        finally:
            readier.stop()
    finally:
        plane.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def create_namespace(plane: ControlPlane) -> str:
    from kubernetes import client

    from tsdev.platform.kube import load_api_client

    name = f"t-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(load_api_client(str(plane.kubeconfig)))
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name
