#!/usr/bin/env bash
# Installs what CloudFlix needs beyond Go on a Debian or Ubuntu machine:
# ffmpeg/ffprobe from the distribution's packages and versitygw (the local S3
# server) built at a pinned version into .bin/. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSITYGW_VERSION=v1.8.0

if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "ffmpeg and ffprobe are required: install your system's ffmpeg package" >&2
    exit 1
  fi
  echo "installing ffmpeg from the system's packages" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null
fi

mkdir -p .bin
if [ ! -x .bin/versitygw ] || [ "$(cat .bin/versitygw.version 2>/dev/null)" != "$VERSITYGW_VERSION" ]; then
  echo "building versitygw $VERSITYGW_VERSION into .bin/" >&2
  GOBIN="$PWD/.bin" go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
  echo "$VERSITYGW_VERSION" > .bin/versitygw.version
fi
