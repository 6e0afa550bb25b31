#!/usr/bin/env bash
# Measures the all-in-one process on the embedded backends: time from start
# to a ready /readyz, resident memory when idle, and resident memory while it
# encodes a generated 30 s 1280x720 clip (the cloudflix process and its
# ffmpeg child apart). Needs bin/cloudflix (make build) and ffmpeg.
# Usage: scripts/measure-embedded.sh [runs]   (start-up is measured over runs)
set -euo pipefail
keep_log=${KEEP_LOG:-}
cd "$(dirname "$0")/.."
runs=${1:-5}
work=$(mktemp -d)
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; [ -n "$keep_log" ] && cp "$work/log" "$keep_log"; rm -rf "$work"' EXIT
port=18080
export CLOUDFLIX_HTTP_ADDR=127.0.0.1:$port CLOUDFLIX_ADMIN_ADDR=127.0.0.1:19100 CLOUDFLIX_LOG_LEVEL=warn
export CLOUDFLIX_UPLOAD_GRPC_ADDR=127.0.0.1:19101 CLOUDFLIX_UPLOAD_TARGET=127.0.0.1:19101
export CLOUDFLIX_HOST_GRPC_ADDR=127.0.0.1:19102 CLOUDFLIX_HOST_TARGET=127.0.0.1:19102
export CLOUDFLIX_SEARCH_GRPC_ADDR=127.0.0.1:19103 CLOUDFLIX_SEARCH_TARGET=127.0.0.1:19103
export CLOUDFLIX_ENCODE_GRPC_ADDR=127.0.0.1:19104 CLOUDFLIX_ENCODE_TARGET=127.0.0.1:19104
export CLOUDFLIX_ACCOUNT_GRPC_ADDR=127.0.0.1:19105 CLOUDFLIX_ACCOUNT_TARGET=127.0.0.1:19105

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
now_ms() { date +%s%3N; }

pid=
# start runs the platform on data dir $1 and sets pid and took (ms to ready).
start() {
  local t0; t0=$(now_ms)
  CLOUDFLIX_DATA_DIR=$1 bin/cloudflix serve >>"$work/log" 2>&1 &
  pid=$!
  until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.01; done
  took=$(( $(now_ms) - t0 ))
}

echo "start-up to /readyz (ms), $runs runs, a new data dir each:"
for i in $(seq "$runs"); do
  start "$work/data$i"
  printf ' %s' "$took"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
echo

start "$work/data"
sleep 5
echo "idle RSS: $(( $(rss_kb "$pid") / 1024 )) MiB"

ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=1280x720:rate=30:duration=30 \
  -f lavfi -i sine=duration=30 -c:v libx264 -preset ultrafast -c:a aac -shortest "$work/clip.mp4"
# An account to upload with: sign up (sign-up is open by default), then sign
# the command line in with the same password.
api="http://127.0.0.1:$port"
curl -fs -o /dev/null -H 'Content-Type: application/json' -H "Origin: $api" \
  -d '{"username":"measure","email":"measure@example.org","password":"measure the platform"}' "$api/api/v1/auth/signup"
echo "measure the platform" | XDG_CONFIG_HOME="$work/config" bin/cloudflix login --server "$api" --username measure --password-stdin >/dev/null
id=$(XDG_CONFIG_HOME="$work/config" bin/cloudflix upload --quiet --server "$api" --title "Measure" "$work/clip.mp4")
peak=0; peak_ff=0; t0=$(now_ms)
while :; do
  state=$(curl -fs "http://127.0.0.1:$port/api/v1/videos/$id" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p')
  r=$(rss_kb "$pid"); [ "$r" -gt "$peak" ] && peak=$r
  for c in $(pgrep -P "$pid" ffmpeg || true); do
    f=$(rss_kb "$c"); [ "$f" -gt "$peak_ff" ] && peak_ff=$f
  done
  case $state in ready|failed) break ;; esac
  sleep 0.2
done
echo "encode of a 30 s 1280x720 clip: $state in $(( $(now_ms) - t0 )) ms"
echo "peak RSS while encoding: cloudflix $(( peak / 1024 )) MiB, ffmpeg $(( peak_ff / 1024 )) MiB"
