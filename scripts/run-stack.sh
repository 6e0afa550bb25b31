#!/usr/bin/env bash
# Runs the platform on the production backends of this machine: its
# PostgreSQL, Redis and RabbitMQ, and a local versitygw S3 server that this
# script starts (data under .run/s3). With no argument every target runs in
# one process; `scripts/run-stack.sh split` runs each target as its own
# process, talking gRPC, as on Kubernetes. Stop with Ctrl-C; the S3 server
# keeps running for the next start (`scripts/run-stack.sh stop-s3` stops it).
set -euo pipefail
cd "$(dirname "$0")/.."

export CLOUDFLIX_METADATA=postgres CLOUDFLIX_STORAGE=s3 CLOUDFLIX_CACHE=redis CLOUDFLIX_QUEUE=rabbitmq

S3_ADDR=${CLOUDFLIX_S3_ENDPOINT:-127.0.0.1:9000}
export CLOUDFLIX_S3_ENDPOINT=$S3_ADDR
export CLOUDFLIX_S3_ACCESS_KEY=${CLOUDFLIX_S3_ACCESS_KEY:-cloudflix}
mkdir -p .run/s3
# The S3 secret key and the internal key are made once and kept in .run:
# on production backends the platform refuses to start without them.
[ -s .run/s3.secret ] || od -An -N24 -tx1 /dev/urandom | tr -d ' \n' > .run/s3.secret
export CLOUDFLIX_S3_SECRET_KEY=${CLOUDFLIX_S3_SECRET_KEY:-$(cat .run/s3.secret)}
[ -s .run/internal.key ] || od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > .run/internal.key
export CLOUDFLIX_INTERNAL_KEY=${CLOUDFLIX_INTERNAL_KEY:-$(cat .run/internal.key)}

if [ "${1:-}" = "stop-s3" ]; then
  [ -f .run/s3.pid ] && kill "$(cat .run/s3.pid)" 2>/dev/null && rm -f .run/s3.pid
  exit 0
fi

port_open() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }

for svc in "PostgreSQL 127.0.0.1:5432" "Redis 127.0.0.1:6379" "RabbitMQ 127.0.0.1:5672"; do
  name=${svc% *}; addr=${svc#* }
  port_open "$addr" || { echo "$name is not answering at $addr: start it first" >&2; exit 1; }
done

if ! port_open "$S3_ADDR"; then
  echo "starting versitygw (S3) at $S3_ADDR, data in .run/s3" >&2
  # --cors-allow-origin: the web UI's browser PUTs upload parts straight to S3.
  nohup .bin/versitygw --access "$CLOUDFLIX_S3_ACCESS_KEY" --secret "$CLOUDFLIX_S3_SECRET_KEY" \
    --port "$S3_ADDR" --cors-allow-origin '*' --quiet posix .run/s3 >.run/s3.log 2>&1 &
  echo $! > .run/s3.pid
  for _ in $(seq 100); do port_open "$S3_ADDR" && break; sleep 0.1; done
  port_open "$S3_ADDR" || { echo "versitygw did not start; see .run/s3.log" >&2; exit 1; }
fi

bin/cloudflix migrate
echo "CloudFlix at http://localhost${CLOUDFLIX_HTTP_ADDR:-:8080}" >&2
if [ "${1:-}" != "split" ]; then
  exec bin/cloudflix serve --target=all
fi

# One process per target, each with its own admin port; Ctrl-C stops all.
# They share the internal key (the router signs who is asking with it).
trap 'kill 0' INT TERM EXIT
port=9110
for target in upload host search encode account router; do
  CLOUDFLIX_ADMIN_ADDR=127.0.0.1:$port bin/cloudflix serve --target=$target &
  port=$((port + 1))
done
wait
