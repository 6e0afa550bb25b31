#!/usr/bin/env bash
# Installs what CloudFlix needs beyond Go on a Debian or Ubuntu machine.
#   ffmpeg     ffmpeg/ffprobe from the system's packages (the encoder needs them)
#   chromium   Chromium and its driver from the system's packages (browser tests)
#   versitygw  the local S3 server, built at a pinned version into .bin/
#   testtools  Helm, promtool and Jaeger, compiled once from their pinned tool
#              modules (tools/*/go.mod) so that the tests that run them only link
# With no argument it installs all four. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSITYGW_VERSION=v1.8.0

# apt_install WHAT PACKAGE... installs system packages as root, or says
# plainly what is missing.
apt_install() {
  local what=$1; shift
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "$what is missing: install your system's package(s) $* (as root on Debian/Ubuntu: apt-get install $*)" >&2
    exit 1
  fi
  echo "installing $what from the system's packages: $*" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

for tool in "${@:-ffmpeg chromium versitygw testtools}"; do
  for t in $tool; do
    case $t in
      ffmpeg)
        if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
          apt_install "ffmpeg (the encoder runs ffmpeg and ffprobe)" ffmpeg
        fi ;;
      chromium)
        if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
          apt_install "chromium (the browser tests drive the web UI in it)" chromium chromium-driver
        fi ;;
      versitygw)
        mkdir -p .bin
        if [ ! -x .bin/versitygw ] || [ "$(cat .bin/versitygw.version 2>/dev/null)" != "$VERSITYGW_VERSION" ]; then
          echo "building versitygw $VERSITYGW_VERSION into .bin/" >&2
          GOBIN="$PWD/.bin" go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
          echo "$VERSITYGW_VERSION" > .bin/versitygw.version
        fi ;;
      testtools)
        for pkg in helm:helm.sh/helm/v3/cmd/helm promtool:github.com/prometheus/prometheus/cmd/promtool \
                   jaeger:github.com/jaegertracing/jaeger/cmd/jaeger; do
          echo "compiling ${pkg%%:*} (tools/${pkg%%:*}/go.mod); the first time takes minutes" >&2
          go build -modfile="tools/${pkg%%:*}/go.mod" -o /dev/null "${pkg#*:}"
        done ;;
      *) echo "install-tools: unknown tool $t (ffmpeg, chromium, versitygw, testtools)" >&2; exit 2 ;;
    esac
  done
done
