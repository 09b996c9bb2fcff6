#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager once, from Debian's `kubernetes` source package
# (1.20, full tree with vendored modules), into a cache directory outside the repository, and installs
# Debian's etcd-server. The platform tests start these three to test deploy and autoscale against a real
# API server; there is no kubelet, so the test fixture stands in for nodes.
#
# The build takes minutes, so it is skipped when both binaries are already in the cache.
# TSDEV_KUBE_CACHE: cache directory (default ~/.cache/tsdev/kube).
# Exit status is non-zero when the binaries could not be produced; test-services.sh treats that as "tests
# skip" outside CI.
set -euo pipefail

cache="${TSDEV_KUBE_CACHE:-$HOME/.cache/tsdev/kube}"
bin="$cache/bin"
mkdir -p "$bin"

need_apt=()
command -v etcd >/dev/null 2>&1 || [ -x /usr/bin/etcd ] || need_apt+=(etcd-server)

have_binaries() { [ -x "$bin/kube-apiserver" ] && [ -x "$bin/kube-controller-manager" ]; }

if ! have_binaries; then
  command -v go >/dev/null 2>&1 || need_apt+=(golang-go)
  command -v jq >/dev/null 2>&1 || need_apt+=(jq)
  command -v rsync >/dev/null 2>&1 || need_apt+=(rsync)
  command -v dpkg-source >/dev/null 2>&1 || need_apt+=(dpkg-dev)
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  if [ ${#need_apt[@]} -gt 0 ] || ! have_binaries; then
    echo "note: cannot build the Kubernetes binaries (not root or no apt-get)" >&2
    exit 1
  fi
  exit 0
fi

# deb-src entries are only needed to fetch the source; they live in their own file, removed on exit, so
# the machine's apt configuration is left as it was found.
src_list=/etc/apt/sources.list.d/tsdev-kube-src.sources
cleanup() {
  if [ -n "${added_src:-}" ]; then rm -f "$src_list"; fi
}
trap cleanup EXIT

if ! have_binaries; then
  if [ ! -e "$src_list" ]; then
    cat >"$src_list" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    added_src=1
  fi
  apt-get update -qq
elif [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if have_binaries; then
  exit 0
fi

work="$cache/src"
mkdir -p "$work"
cd "$work"
tree=$(find . -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)
if [ -z "$tree" ]; then
  apt-get source -qq kubernetes >/dev/null
  tree=$(find . -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)
fi
cd "$tree"
# Go 1.19+ refuses to build this tree in module mode with a stale vendor/modules.txt; GOFLAGS=-mod=vendor
# makes it use the vendored modules the package ships, and no network access is needed.
export GOFLAGS="-mod=vendor" GO111MODULE=on GOTOOLCHAIN=local
for what in kube-apiserver kube-controller-manager; do
  if [ ! -x "$bin/$what" ]; then
    echo "building $what (several minutes)" >&2
    make WHAT="cmd/$what" >&2
    cp "_output/bin/$what" "$bin/$what.tmp"
    mv "$bin/$what.tmp" "$bin/$what"
  fi
done
echo "kube binaries in $bin" >&2
