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
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -eq 0 ]] && have apt-get; then
  echo "ensure-media-tools: installing ${missing[*]} from Debian's packages" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "ensure-media-tools: the service needs ${missing[*]}; install them (e.g. apt-get install ${missing[*]})" >&2
  exit 1
fi
