#!/usr/bin/env bash
# Installs what the test suite needs beyond Python packages, where this machine allows it.
# Tests that need a component skip with the reason when it is absent, except under CI=true, where
# they fail: so in CI everything listed here must install.
set -euo pipefail

need_apt=()
# Redis: the broker of the distributed-mode test (a real Celery worker against a real redis-server).
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
# wrk: the bounded load test of the OTLP/HTTP receiver.
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "note: cannot install ${need_apt[*]} (not root or no apt-get); tests needing them will skip" >&2
  fi
fi

# Kubernetes: kube-apiserver and kube-controller-manager built once from Debian's source package into
# ${TSDEV_KUBE_CACHE:-~/.cache/tsdev/kube}, and etcd-server, for the platform tests (tests/platform).
# A failed build is fatal only in CI, where those tests would fail anyway.
if ! bash "$(dirname "$0")/build-kube.sh"; then
  if [ "${CI:-}" = "true" ]; then
    exit 1
  fi
  echo "note: the Kubernetes binaries could not be built; the platform tests against a real API server will skip" >&2
fi
