"""Fixtures of the platform tests: a real control plane per session, a fresh namespace per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import IN_CI
from tests.support.kube import (
    ControlPlane,
    KubeCluster,
    create_namespace,
    missing_binaries,
    start_control_plane,
)


@pytest.fixture(scope="session")
def control_plane() -> Iterator[ControlPlane]:
    reason = missing_binaries()
    if reason:
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: scripts/test-services.sh must build them)")
        pytest.skip(reason)
    yield from start_control_plane()


@pytest.fixture
def cluster(control_plane: ControlPlane) -> KubeCluster:
    return KubeCluster(control_plane, control_plane.kubeconfig, create_namespace(control_plane))
