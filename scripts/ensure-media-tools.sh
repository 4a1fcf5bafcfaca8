#!/usr/bin/env bash
# Installs the media tools the service runs when they are missing: ffprobe/ffmpeg (Debian's ffmpeg: the probe at
# finalisation, posters, remuxes) and heif-convert (Debian's libheif-examples: HEIC photos, which sharp's own
# libvips cannot decode). Run by `npm start` and `npm test`. On a machine without root or apt it says what to
# install and stops; FFPROBE_PATH, FFMPEG_PATH and HEIF_CONVERT_PATH point the service at tools elsewhere.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

missing=()
{ have "${FFPROBE_PATH:-ffprobe}" && have "${FFMPEG_PATH:-ffmpeg}"; } || missing+=(ffmpeg)
have "${HEIF_CONVERT_PATH:-heif-convert}" || missing+=(libheif-examples)
source "$(dirname "$0")/lib/debian-packages.sh"
install_debian_packages ensure-media-tools "the service needs" "${missing[@]}"
