#!/usr/bin/env bash
# Start N skillatlas Celery workers on this machine in the background (no systemd), one step at a time each.
#   deploy/celery/start_workers.sh 4            # reads /etc/skillatlas/worker.env if present
#   WORKER_ENV=./worker.env deploy/celery/start_workers.sh 2
# Stop them with: kill $(cat $RUN_DIR/worker-*.pid)   (SIGTERM: warm shutdown)
set -euo pipefail
N=${1:-2}
APP_DIR=$(cd "$(dirname "$0")/../.." && pwd)
WORKER_ENV=${WORKER_ENV:-/etc/skillatlas/worker.env}
RUN_DIR=${RUN_DIR:-/var/tmp/skillatlas-workers}
if [ -f "$WORKER_ENV" ]; then set -a; . "$WORKER_ENV"; set +a; fi
: "${SKILLATLAS_EXECUTOR:=celery}" "${SKILLATLAS_CELERY_QUEUE:=dagster}"
export SKILLATLAS_EXECUTOR SKILLATLAS_CELERY_QUEUE PYTHONPATH="$APP_DIR${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$RUN_DIR"
for i in $(seq 1 "$N"); do
  mkdir -p "$RUN_DIR/worker-$i"
  (cd "$RUN_DIR/worker-$i" && nohup "$APP_DIR/.venv/bin/celery" -A workers.celery_app worker \
      -Q "$SKILLATLAS_CELERY_QUEUE" -n "worker$i@%h" --concurrency 1 --loglevel INFO \
      --without-gossip --without-mingle >"$RUN_DIR/worker-$i.log" 2>&1 & echo $! >"$RUN_DIR/worker-$i.pid")
  echo "worker $i: pid $(cat "$RUN_DIR/worker-$i.pid"), log $RUN_DIR/worker-$i.log"
done
