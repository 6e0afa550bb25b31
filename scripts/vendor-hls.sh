#!/usr/bin/env bash
# Vendors hls.js, the HLS player of the watch page, into web/static/vendor/
# from the npm registry at a pinned version, with its license. The UI has no
# build step: the committed files are what `go build` embeds.
#
#   scripts/vendor-hls.sh          download and (re)write the vendored files
#   scripts/vendor-hls.sh --check  fail when the committed files differ from a
#                                  fresh download of the pinned version
#
# The full ES module build is used: the player needs fMP4 HLS, adaptive
# bitrate, manual level switching and the subtitle tracks of a video's
# captions, which the light build leaves out.
set -euo pipefail
cd "$(dirname "$0")/.."

HLS_VERSION=1.7.4
DEST=web/static/vendor
FILES=(
  "dist/hls.min.mjs:hls.min.mjs"
  "LICENSE:hls.js-LICENSE.txt"
)

mode=write
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

command -v npm >/dev/null || { echo "npm is required to fetch hls.js (Debian: apt-get install npm)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "hls.js@$HLS_VERSION" >/dev/null)
tar -xzf "$tmp/hls.js-$HLS_VERSION.tgz" -C "$tmp"

status=0
for f in "${FILES[@]}"; do
  src="$tmp/package/${f%%:*}"
  dst="$DEST/${f##*:}"
  [ -f "$src" ] || { echo "hls.js@$HLS_VERSION has no ${f%%:*}" >&2; exit 1; }
  if [ "$mode" = check ]; then
    want=$(sha256sum <"$src" | cut -d' ' -f1)
    got=$(sha256sum <"$dst" 2>/dev/null | cut -d' ' -f1 || true)
    if [ "$want" != "$got" ]; then
      echo "$dst differs from hls.js@$HLS_VERSION ${f%%:*} (sha256 $got, want $want): run $0 and commit" >&2
      status=1
    fi
  else
    mkdir -p "$DEST"
    cp "$src" "$dst"
    echo "wrote $dst (hls.js@$HLS_VERSION)" >&2
  fi
done
exit $status
