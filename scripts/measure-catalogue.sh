#!/usr/bin/env bash
# Measures the read path at catalogue sizes: for each metadata backend and
# size, fills a store with `cloudflix catalogue generate` (once: kept under
# WORK for the next run), starts the whole platform in one process on it,
# uploads two generated clips (the synthetic videos have no media, the
# segment scenario reads these), and runs `cloudflix loadtest` with the
# ceiling in the same run. Results: WORK/BACKEND-SIZE{TAG}.{txt,json,svg}.
#   BACKENDS  sqlite (SQLite, in-process cache) and/or postgres (PostgreSQL
#             at PG_URL_BASE, Redis at 127.0.0.1:6379); default both
#   SIZES     catalogue sizes; default "10000 100000 1000000"
#   WORK      where catalogues and results are kept; default ./.run/measure
#   TAG       added to the results' names, to keep runs with other flags apart
# Needs bin/cloudflix (make build), ffmpeg, and for postgres the machine's
# PostgreSQL and Redis. Extra arguments go to loadtest, e.g. --duration 5s.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/measure.sh
BACKENDS=${BACKENDS:-sqlite postgres}
SIZES=${SIZES:-10000 100000 1000000}
WORK=${WORK:-$PWD/.run/measure}
PG_URL_BASE=${PG_URL_BASE:-postgres://postgres@127.0.0.1:5432}
mkdir -p "$WORK"
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true' EXIT
export CLOUDFLIX_LOG_LEVEL=warn

clip=$WORK/clip.mp4
make_clip "$clip"

# configure BACKEND SIZE sets the variables of one platform.
configure() {
  export CLOUDFLIX_DATA_DIR=$WORK/$1-$2 CLOUDFLIX_HTTP_ADDR=127.0.0.1:27080 CLOUDFLIX_ADMIN_ADDR=127.0.0.1:27090
  export CLOUDFLIX_HTTP_CLIENT_RATE=0 # the harness is one client standing for many
  if [ "$1" = postgres ]; then
    export CLOUDFLIX_METADATA=postgres CLOUDFLIX_POSTGRES_URL=$PG_URL_BASE/cloudflix_measure_$2
    export CLOUDFLIX_CACHE=redis CLOUDFLIX_REDIS_PREFIX=cloudflix-measure-$2:
    export CLOUDFLIX_INTERNAL_KEY=${CLOUDFLIX_INTERNAL_KEY:-$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')}
  else
    unset CLOUDFLIX_METADATA CLOUDFLIX_POSTGRES_URL CLOUDFLIX_CACHE CLOUDFLIX_REDIS_PREFIX
  fi
}

# fill BACKEND SIZE generates the catalogue unless an earlier run did.
fill() {
  local done=$WORK/$1-$2.done
  [ -f "$done" ] && return
  mkdir -p "$CLOUDFLIX_DATA_DIR"
  if [ "$1" = postgres ]; then
    psql "$PG_URL_BASE/postgres" -qc "DROP DATABASE IF EXISTS cloudflix_measure_$2" -c "CREATE DATABASE cloudflix_measure_$2"
    bin/cloudflix migrate
  fi
  bin/cloudflix catalogue generate --videos "$2" | tee "$WORK/$1-$2.import"
  if [ "$1" = postgres ]; then psql "$CLOUDFLIX_POSTGRES_URL" -qc "VACUUM ANALYZE"; fi
  touch "$done"
}

# media uploads the clips as a signed-up user, unless an earlier run did,
# and waits until they are ready.
media() {
  [ -f "$CLOUDFLIX_DATA_DIR/media.done" ] && return
  upload_clips "http://$CLOUDFLIX_HTTP_ADDR" "$CLOUDFLIX_DATA_DIR/cli" "$clip" "Harbour lights at dusk" "Night train to the coast"
  touch "$CLOUDFLIX_DATA_DIR/media.done"
}

for backend in $BACKENDS; do
  for size in $SIZES; do
    configure "$backend" "$size"
    fill "$backend" "$size"
    bin/cloudflix serve >>"$WORK/$backend-$size.log" 2>&1 &
    pid=$!
    until curl -fs "http://$CLOUDFLIX_HTTP_ADDR/readyz" >/dev/null; do sleep 0.1; done
    media
    out=$WORK/$backend-$size${TAG:-}
    echo "== $backend, $size videos, load average before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out.txt"
    bin/cloudflix loadtest --server "http://$CLOUDFLIX_HTTP_ADDR" --metrics "http://$CLOUDFLIX_ADMIN_ADDR" --videos 2000 \
      --json "$out.json" --svg "$out.svg" "$@" | tee -a "$out.txt"
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  done
done
