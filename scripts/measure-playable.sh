#!/usr/bin/env bash
# Measures time to playable on the all-in-one process (embedded backends):
# a generated 1080p30 source with sound is uploaded with the command line,
# and from the moment the upload completes the video's JSON is polled every
# 100 ms: when it first says playable, when its first segment (the lowest
# rendition's, with its init segment) has been fetched through the master
# playlist and decodes, and when it is ready. Needs bin/cloudflix (make
# build), ffmpeg and curl.
# Usage: scripts/measure-playable.sh [seconds of source, default 60]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
work=$(mktemp -d)
pid=
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
port=18280
export CLOUDFLIX_HTTP_ADDR=127.0.0.1:$port CLOUDFLIX_ADMIN_ADDR=127.0.0.1:19280 CLOUDFLIX_LOG_LEVEL=warn
i=1
for svc in UPLOAD HOST SEARCH ENCODE ACCOUNT; do
  export "CLOUDFLIX_${svc}_GRPC_ADDR=127.0.0.1:1928$i" "CLOUDFLIX_${svc}_TARGET=127.0.0.1:1928$i"
  i=$((i + 1))
done
api="http://127.0.0.1:$port"
now_ms() { date +%s%3N; }
json() { sed -n "s/.*\"$1\":\\([^,}]*\\).*/\\1/p"; }

echo "generating a ${seconds} s 1920x1080 30 fps source with sound…"
ffmpeg -hide_banner -loglevel error -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=$seconds" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$seconds" \
  -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest "$work/source.mp4"

CLOUDFLIX_DATA_DIR="$work/data" bin/cloudflix serve >>"$work/log" 2>&1 &
pid=$!
until curl -fs "$api/readyz" >/dev/null; do sleep 0.05; done
curl -fs -o /dev/null -H 'Content-Type: application/json' -H "Origin: $api" \
  -d '{"username":"measure","email":"measure@example.org","password":"measure the platform"}' "$api/api/v1/auth/signup"
echo "measure the platform" | XDG_CONFIG_HOME="$work/config" bin/cloudflix login --server "$api" --username measure --password-stdin >/dev/null

# The upload command returns once the upload is complete (stored and
# queued for encoding): the clock starts then.
id=$(XDG_CONFIG_HOME="$work/config" bin/cloudflix upload --quiet --server "$api" --title "Time to playable" "$work/source.mp4")
t0=$(now_ms)
playable= first= ready=
while :; do
  v=$(curl -fs "$api/api/v1/videos/$id")
  t=$(( $(now_ms) - t0 ))
  state=$(echo "$v" | json state | tr -d '"')
  if [ -z "$playable" ] && [ "$(echo "$v" | json playable)" = true ]; then
    playable=$t
    echo "playable after ${playable} ms: $(echo "$v" | json playable_seconds) s of $(echo "$v" | json duration_seconds) s ($state)"
  fi
  if [ -n "$playable" ] && [ -z "$first" ]; then
    hls=$(echo "$v" | json hls_url | tr -d '"')
    base=$api${hls%master.m3u8}
    rendition=$(curl -fs "$api$hls" | grep -v '^#' | head -1)
    playlist=$(curl -fs "$base$rendition")
    init=$(echo "$playlist" | sed -n 's/^#EXT-X-MAP:URI="\(.*\)"/\1/p')
    seg=$(echo "$playlist" | grep -v '^#' | head -1)
    dir=$base${rendition%index.m3u8}
    curl -fs "$dir$init" >"$work/start.mp4"
    curl -fs "$dir$seg" >>"$work/start.mp4"
    ffmpeg -nostdin -v error -xerror -i "$work/start.mp4" -f null - 
    first=$(( $(now_ms) - t0 ))
    echo "first segment fetched and decoded after ${first} ms ($rendition: $seg)"
  fi
  case $state in
    ready) ready=$t; break ;;
    failed) echo "the video failed: $v" >&2; exit 1 ;;
  esac
  sleep 0.1
done
echo "ready after ${ready} ms"
echo "renditions: $(curl -fs "$api/api/v1/videos/$id" | grep -o '"name":"[0-9]*p"' | tr '\n' ' ')"
