"""Leader election on a ``coordination.k8s.io/v1`` Lease, so several autoscaler replicas never fight.

The same protocol as client-go's leaderelection: the holder renews ``renewTime`` every tick; another
candidate takes the Lease only once ``renewTime + leaseDurationSeconds`` has passed. Updates carry the
Lease's ``resourceVersion``, so two candidates racing for an expired Lease cannot both win: the API
server refuses the second write with 409.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from kubernetes import client
from kubernetes.client.exceptions import ApiException

logger = logging.getLogger(__name__)


def default_identity() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class LeaseElector:
    def __init__(
        self,
        api: client.CoordinationV1Api,
        namespace: str,
        name: str = "tsdev-autoscaler",
        identity: str | None = None,
        lease_seconds: int = 60,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.name = name
        self.identity = identity or default_identity()
        self.lease_seconds = lease_seconds
        self._clock = clock
        self.is_leader = False

    def _spec(self, now: datetime, transitions: int, acquired: datetime | None) -> client.V1LeaseSpec:
        return client.V1LeaseSpec(
            holder_identity=self.identity,
            lease_duration_seconds=self.lease_seconds,
            acquire_time=acquired or now,
            renew_time=now,
            lease_transitions=transitions,
        )

    def try_acquire_or_renew(self) -> bool:
        """One election round: ``True`` when this process holds the Lease afterwards."""
        now = self._clock()
        try:
            lease = self.api.read_namespaced_lease(self.name, self.namespace)
        except ApiException as exc:
            if exc.status != 404:
                return self._lost(f"reading the lease failed: {exc.reason}")
            body = client.V1Lease(
                metadata=client.V1ObjectMeta(name=self.name, namespace=self.namespace),
                spec=self._spec(now, 0, None),
            )
            try:
                self.api.create_namespaced_lease(self.namespace, body)
            except ApiException as create_exc:
                return self._lost(f"creating the lease failed: {create_exc.reason}")
            return self._won()
        spec = lease.spec or client.V1LeaseSpec()
        holder = spec.holder_identity
        if holder and holder != self.identity:
            renewed = spec.renew_time or spec.acquire_time
            duration = timedelta(seconds=spec.lease_duration_seconds or self.lease_seconds)
            if renewed is not None and renewed + duration > now:
                return self._lost(None)
        ours = holder == self.identity
        transitions = (spec.lease_transitions or 0) + (0 if ours else 1)
        lease.spec = self._spec(now, transitions, spec.acquire_time if ours else None)
        try:
            self.api.replace_namespaced_lease(self.name, self.namespace, lease)
        except ApiException as exc:
            return self._lost(f"another candidate updated the lease first ({exc.status})")
        return self._won()

    def release(self) -> None:
        """Give the Lease up on shutdown so a standby takes over at once instead of after the duration."""
        if not self.is_leader:
            return
        try:
            lease = self.api.read_namespaced_lease(self.name, self.namespace)
            if lease.spec and lease.spec.holder_identity == self.identity:
                lease.spec.holder_identity = None
                lease.spec.renew_time = None
                self.api.replace_namespaced_lease(self.name, self.namespace, lease)
        except ApiException as exc:
            logger.info("releasing the lease failed: %s", exc.reason)
        self.is_leader = False

    def _won(self) -> bool:
        if not self.is_leader:
            logger.info("%s became the leader (lease %s/%s)", self.identity, self.namespace, self.name)
        self.is_leader = True
        return True

    def _lost(self, why: str | None) -> bool:
        if self.is_leader:
            logger.warning("%s lost the leadership%s", self.identity, f": {why}" if why else "")
        elif why:
            logger.info("leader election: %s", why)
        self.is_leader = False
        return False
