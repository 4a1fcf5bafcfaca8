#!/usr/bin/env bash
# Installs the system tools the test suite needs when they are missing: ffmpeg (generates media fixtures) and
# chromium (browser tests). On a machine without root or apt, it says what to install and stops.
set -euo pipefail

missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v chromium >/dev/null 2>&1 || [[ -x /usr/bin/chromium ]] || missing+=(chromium)
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-test-deps: installing ${missing[*]} from Debian's packages" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "ensure-test-deps: the tests need ${missing[*]}; install them (e.g. apt-get install ${missing[*]})" >&2
  exit 1
fi
