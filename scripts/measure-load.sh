#!/usr/bin/env bash
# Measures the read path under load: starts two all-in-one platforms on the
# embedded backends, one whose router calls its services in memory (the
# default) and one that calls them over loopback TCP
# (CLOUDFLIX_GRPC_IN_MEMORY=false), uploads the same small catalogue of
# generated clips to each, and runs `cloudflix loadtest` on both side by
# side, endpoint by endpoint, with the ceiling measured in the same run.
# ROUNDS=n repeats the run n times on the same platforms, the order of the
# two swapped every other round. Needs bin/cloudflix (make build) and ffmpeg.
# Usage: scripts/measure-load.sh [loadtest flags]   e.g. --duration 10s --json load.json --svg load.svg
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/measure.sh
videos=${VIDEOS:-8}
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"' EXIT
export CLOUDFLIX_LOG_LEVEL=warn
export CLOUDFLIX_HTTP_CLIENT_RATE=0 # the harness is one client standing for many

# start runs platform $1 (memory or tcp) on ports from $2 and prints its URL.
start() {
  local name=$1 p=$2 env=()
  for svc in UPLOAD HOST SEARCH ENCODE ACCOUNT; do
    p=$((p + 1))
    env+=("CLOUDFLIX_${svc}_GRPC_ADDR=127.0.0.1:$p" "CLOUDFLIX_${svc}_TARGET=127.0.0.1:$p")
  done
  env CLOUDFLIX_DATA_DIR="$work/$name" CLOUDFLIX_HTTP_ADDR="127.0.0.1:$2" CLOUDFLIX_ADMIN_ADDR="127.0.0.1:$((p + 1))" \
    CLOUDFLIX_GRPC_IN_MEMORY=$([ "$name" = memory ] && echo true || echo false) "${env[@]}" \
    bin/cloudflix serve >>"$work/$name.log" 2>&1 &
  pids+=($!)
  until curl -fs "http://127.0.0.1:$2/readyz" >/dev/null; do sleep 0.05; done
}

titles=("Sunrise over the ridge" "Harbour lights at dusk" "Mountain river crossing" "Night train to the coast"
  "Autumn forest walk" "City market in the rain" "Lighthouse keeper's morning" "Desert storm timelapse"
  "Glacier lagoon by kayak" "Street musicians of the old town" "Falcon hunting over fields" "Northern lights above the fjord")
make_clip "$work/clip.mp4"

# catalogue uploads the clips to the platform at $1 (CLI config under $2).
catalogue() {
  local picked=()
  for i in $(seq 0 $((videos - 1))); do picked+=("${titles[i % ${#titles[@]}]}"); done
  upload_clips "$1" "$work/config-$2" "$work/clip.mp4" "${picked[@]}"
}

start memory 28080
start tcp 29080
catalogue http://127.0.0.1:28080 memory
catalogue http://127.0.0.1:29080 tcp
servers=(--server memory=http://127.0.0.1:28080 --metrics memory=http://127.0.0.1:28086
  --server tcp=http://127.0.0.1:29080 --metrics tcp=http://127.0.0.1:29086)
for round in $(seq "${ROUNDS:-1}"); do
  echo "round $round, load average before it: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  bin/cloudflix loadtest "${servers[@]}" "$@"
  servers=("${servers[@]:4}" "${servers[@]:0:4}")
done
