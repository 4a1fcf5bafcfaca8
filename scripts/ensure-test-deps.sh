#!/usr/bin/env bash
# Installs what the test suite needs when it is missing: the service's media tools (scripts/ensure-media-tools.sh:
# ffmpeg, heif-convert; the fixtures are made with them too), chromium (browser tests),
# redis-server (the multi-instance tests start their own), and a Python venv in .cache/ with a pinned tuspy (the tus
# Python client the e2e suite drives). System packages come from Debian's; on a machine without root or apt, it says
# what to install and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

TUSPY_VERSION=1.1.0
TUSPY_VENV=.cache/tuspy-venv

bash scripts/ensure-media-tools.sh

missing=()
command -v chromium >/dev/null 2>&1 || [[ -x /usr/bin/chromium ]] || missing+=(chromium)
# Tests start their own redis-server (src/coordination/embedded-redis-server.ts): Debian's package is enough.
command -v redis-server >/dev/null 2>&1 || [[ -x /usr/bin/redis-server ]] || missing+=(redis-server)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# Debian ships venv (and the pip it bootstraps) apart from python3.
probe=$(mktemp -d)
if ! python3 -m venv "$probe/venv" >/dev/null 2>&1; then missing+=(python3-venv); fi
rm -rf "$probe"

source scripts/lib/debian-packages.sh
install_debian_packages ensure-test-deps "the tests need" "${missing[@]}"

marker="$TUSPY_VENV/.tuspy-$TUSPY_VERSION"
if [[ ! -f $marker ]]; then
  echo "ensure-test-deps: installing tuspy $TUSPY_VERSION into $TUSPY_VENV" >&2
  rm -rf "$TUSPY_VENV"
  python3 -m venv "$TUSPY_VENV"
  "$TUSPY_VENV/bin/python" -m pip install -q --disable-pip-version-check "tuspy==$TUSPY_VERSION"
  touch "$marker"
fi
