#!/usr/bin/env bash
# The docker-compose.yml stack without Docker: a real MinIO (the build the
# tests use), its buckets and webhook wired with mc, and `imgate serve` in
# front of it with the compose file's settings. Ctrl-C stops everything.
#
#   ./scripts/dev.sh
#
# imgate on http://127.0.0.1:8080, MinIO on http://127.0.0.1:9000 (console
# :9001). Data stays in ./dev-data between runs (IMGATE_DEV_DATA moves it).
# MinIO and mc come from $PATH or are built once with `go install` at the
# versions scripts/test.sh pins, cached in ~/.cache/imgate-ci/bin like the
# tests' (a cold MinIO build takes several minutes). IMGATE_BIN runs a
# prebuilt imgate instead of building this checkout.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CACHE=${IMGATE_CACHE:-$HOME/.cache/imgate-ci}
BIN=$CACHE/bin
DATA=${IMGATE_DEV_DATA:-$ROOT/dev-data}
export PATH="$BIN:$PATH"

# The settings of docker-compose.yml; only the addresses differ (loopback
# instead of service names). e2e/compose_test.go checks they stay the same.
MINIO_USER=minioadmin-dev
MINIO_PASSWORD=change-me-minio-secret
EVENTS_TOKEN=change-me-events-token
MINIO_ADDR=127.0.0.1:9000
MINIO_CONSOLE=127.0.0.1:9001
IMGATE_ADDR=127.0.0.1:8080

say() { printf 'dev.sh: %s\n' "$*"; }

# --- MinIO and mc at the pinned versions (the same cache as scripts/test.sh) ---
pinned() { sed -n "s/^$1=//p" "$ROOT/scripts/test.sh"; }
tool() { # name module
  local name=$1 mod="$2@$(pinned "$3")" stamp="$BIN/.$1.version"
  if [ -x "$BIN/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$mod" ]; then return 0; fi
  if [ ! -x "$BIN/$name" ] && command -v "$name" >/dev/null; then return 0; fi
  say "building $mod into $BIN (once)"
  mkdir -p "$BIN"
  tmp=$(mktemp -d)
  (cd "$tmp" && GOFLAGS=-mod=mod GOBIN="$BIN" CGO_ENABLED=0 go install "$mod") && echo "$mod" > "$stamp"
  rm -rf "$tmp"
}
tool minio github.com/minio/minio MINIO_VERSION
tool mc github.com/minio/mc MC_VERSION

mkdir -p "$DATA/minio" "$DATA/imgate" "$DATA/mc" "$DATA/log"
export MC_CONFIG_DIR="$DATA/mc"

pids=()
stop() {
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  say "stopped"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- MinIO with the webhook to imgate (compose service "minio") ---
say "starting MinIO on $MINIO_ADDR (log: $DATA/log/minio.log)"
MINIO_ROOT_USER=$MINIO_USER MINIO_ROOT_PASSWORD=$MINIO_PASSWORD \
MINIO_NOTIFY_WEBHOOK_ENABLE_PRIMARY=on \
MINIO_NOTIFY_WEBHOOK_ENDPOINT_PRIMARY="http://$IMGATE_ADDR/v1/events/s3" \
MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_PRIMARY=$EVENTS_TOKEN \
MINIO_SYNC_BOOT=on \
  minio server "$DATA/minio" --address "$MINIO_ADDR" --console-address "$MINIO_CONSOLE" \
  > "$DATA/log/minio.log" 2>&1 &
pids+=($!)
export MC_HOST_local="http://$MINIO_USER:$MINIO_PASSWORD@$MINIO_ADDR"
for i in $(seq 1 120); do
  if timeout 3 mc ready local >/dev/null 2>&1; then break; fi  # mc ready waits forever
  if ! kill -0 "${pids[0]}" 2>/dev/null; then say "MinIO exited:"; tail -n 20 "$DATA/log/minio.log"; exit 1; fi
  [ "$i" = 120 ] && { say "MinIO not ready after 60 s"; tail -n 20 "$DATA/log/minio.log"; exit 1; }
  sleep 0.5
done
unset MC_HOST_local

# --- buckets and webhook (compose service "minio-setup", the same mc commands) ---
mc alias set local "http://$MINIO_ADDR" "$MINIO_USER" "$MINIO_PASSWORD" >/dev/null
mc mb --ignore-existing local/imgate-original local/imgate-resized
# MinIO brings its notification targets online just after it answers ready (sync boot
# makes these calls wait for that; the retries cover a MinIO started without it).
for i in $(seq 1 30); do
  mc event add --ignore-existing local/imgate-original arn:minio:sqs::PRIMARY:webhook --event put,delete && break
  [ "$i" = 30 ] && { say "MinIO does not know the webhook target arn:minio:sqs::PRIMARY:webhook"; exit 1; }
  sleep 1
done

# --- imgate (compose service "imgate") ---
IMGATE=${IMGATE_BIN:-}
if [ -z "$IMGATE" ]; then
  say "building imgate"
  mkdir -p "$DATA/bin"
  CGO_ENABLED=0 go build -tags nodynamic -o "$DATA/bin/imgate" ./cmd/imgate
  IMGATE=$DATA/bin/imgate
fi
say "starting imgate on $IMGATE_ADDR (log: $DATA/log/imgate.log)"
IMGATE_LISTEN=$IMGATE_ADDR \
IMGATE_DATA="$DATA/imgate" \
IMGATE_BUCKET=imgate \
IMGATE_STORAGE=s3 \
IMGATE_S3_ENDPOINT=$MINIO_ADDR \
IMGATE_S3_ACCESS_KEY=$MINIO_USER \
IMGATE_S3_SECRET_KEY=$MINIO_PASSWORD \
IMGATE_S3_PATH_STYLE=true \
IMGATE_PUBLIC_URL="http://$IMGATE_ADDR" \
IMGATE_RECONCILE_INTERVAL=5m \
IMGATE_EVENTS_TOKEN=$EVENTS_TOKEN \
IMGATE_ACCESS_KEY=imgate-dev-key \
IMGATE_SECRET_KEY=change-me-imgate-secret \
IMGATE_API_KEY=change-me-api-key \
IMGATE_ADMIN_TOKEN=change-me-admin-token \
IMGATE_LOG_FORMAT=json \
  "$IMGATE" serve > "$DATA/log/imgate.log" 2>&1 &
pids+=($!)
for i in $(seq 1 240); do
  if "$IMGATE" healthcheck --listen "$IMGATE_ADDR" --timeout 1s >/dev/null 2>&1; then break; fi
  if ! kill -0 "${pids[1]}" 2>/dev/null; then say "imgate exited:"; tail -n 20 "$DATA/log/imgate.log"; exit 1; fi
  [ "$i" = 240 ] && { say "imgate not ready after 60 s"; tail -n 20 "$DATA/log/imgate.log"; exit 1; }
  sleep 0.25
done

cat <<EOT

imgate is up, in front of MinIO.
  imgate  http://$IMGATE_ADDR   S3 API (path-style, region us-east-1), /v1, admin API
          access key imgate-dev-key   secret key change-me-imgate-secret
          API key change-me-api-key   admin token change-me-admin-token
  MinIO   http://$MINIO_ADDR   (console http://$MINIO_CONSOLE)
          user minioadmin-dev   password change-me-minio-secret
          uploads straight into imgate-original reach imgate through the webhook
  next:   export AWS_ACCESS_KEY_ID=imgate-dev-key AWS_SECRET_ACCESS_KEY=change-me-imgate-secret AWS_DEFAULT_REGION=us-east-1
          aws --endpoint-url http://$IMGATE_ADDR s3 cp photo.jpg s3://imgate-original/photos/photo.jpg
          IMGATE_ADMIN_TOKEN=change-me-admin-token imgate admin
Logs in $DATA/log. Ctrl-C stops MinIO and imgate.
EOT

# Run until Ctrl-C, or until one of the two exits.
set +e
wait -n "${pids[@]}"
say "a process exited; see $DATA/log"
exit 1
