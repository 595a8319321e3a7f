#!/usr/bin/env bash
# Load held: N uploads (default 1000) from C concurrent clients (default 32)
# through imgate on MinIO + PostgreSQL, twice:
#   one — one `imgate serve` process;
#   two — two processes sharing the PostgreSQL queue and MinIO; when half the
#         uploads are acknowledged, node B is killed with SIGKILL and
#         restarted (same --data and --listen, so the same node identity:
#         it takes back the jobs it was running at once).
# The Go client (bench/loadclient) fails over to the other node while B is
# down, then checks in MinIO that every acknowledged upload is stored with all
# variants, and prints throughput and p50/p99 of upload latency and of
# upload→variants latency. Exit non-zero when an acknowledged upload is lost
# or a variant is missing.
#
#   bench/load.sh
#   N=200 C=8 bench/load.sh
#   SIZE=800x600 WAIT=30m WORKERS=2 bench/load.sh
#
# Needs: go, a minio binary (IMGATE_MINIO_BIN, PATH or ~/.cache/imgate-ci/bin/minio),
# PostgreSQL: IMGATE_TEST_POSTGRES=postgres://… (a database is created per run
# with psql), or run as root with /usr/lib/postgresql/15/bin (a private
# cluster is started). Everything listens on 127.0.0.1 only.
set -euo pipefail

N=${N:-1000}
C=${C:-32}
WORKERS=${WORKERS:-2}
SIZE=${SIZE:-400x300} # of the generated JPEGs (distinct per 16 uploads)
WAIT=${WAIT:-20m}     # for all variants after the last upload
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MINIO=${IMGATE_MINIO_BIN:-$(command -v minio || echo "$HOME/.cache/imgate-ci/bin/minio")}
PGBIN=/usr/lib/postgresql/15/bin
[ -x "$MINIO" ] || { echo "load: minio binary not found (set IMGATE_MINIO_BIN)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/imgate-load.XXXXXX)
chmod 755 "$WORK"
cleanup() {
	for f in "$WORK"/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true; done
	if [ -n "${PGDIR:-}" ]; then runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true; fi
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_ready() {
	for _ in $(seq 1 300); do
		curl -fs "$1" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "load: $1 not ready" >&2
	return 1
}

echo "building imgate and the load client…" >&2
(cd "$ROOT" && go build -o "$WORK/imgate" ./cmd/imgate && go build -o "$WORK/loadclient" ./bench/loadclient)

# --- MinIO ---
MINIO_PORT=$(free_port)
export BACKEND_ACCESS_KEY=loadminio BACKEND_SECRET_KEY=loadminio-secret-123
MINIO_ROOT_USER=$BACKEND_ACCESS_KEY MINIO_ROOT_PASSWORD=$BACKEND_SECRET_KEY MINIO_BROWSER=off MINIO_UPDATE=off \
	"$MINIO" server "$WORK/minio" --address "127.0.0.1:$MINIO_PORT" --console-address "127.0.0.1:$(free_port)" --quiet \
	>"$WORK/minio.log" 2>&1 &
echo $! >"$WORK/minio.pid"
wait_ready "http://127.0.0.1:$MINIO_PORT/minio/health/ready"

# --- PostgreSQL ---
PG=${IMGATE_TEST_POSTGRES:-}
if [ -z "$PG" ]; then
	[ "$(id -u)" = 0 ] && [ -x "$PGBIN/initdb" ] || { echo "load: set IMGATE_TEST_POSTGRES or run as root with PostgreSQL 15 installed" >&2; exit 2; }
	PGDIR=$WORK/pg
	mkdir -p "$PGDIR" && chown postgres "$PGDIR"
	PGPORT=$(free_port)
	runuser -u postgres -- "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U postgres >/dev/null
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
		-o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDIR -c max_connections=200" start >/dev/null
	PG="postgres://postgres@127.0.0.1:$PGPORT/postgres?sslmode=disable"
fi
# new_db NAME: a fresh database on the same server; prints its URL.
new_db() {
	PGOPTIONS='-c client_min_messages=warning' psql -q "$PG" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
	echo "$PG" | sed -E "s#/[^/?]*(\?|$)#/$1\1#"
}

export IMGATE_ACCESS_KEY=AKLOAD IMGATE_SECRET_KEY=load-secret-key-0123456789 \
	IMGATE_ADMIN_TOKEN=adm_load_0123456789abcdef IMGATE_API_KEY=key_load_0123456789abcdef \
	IMGATE_EVENTS_TOKEN=evt_load_0123456789abcdef IMGATE_TOKEN_SECRET=load-token-secret-0123456789abcdef0123

# serve NAME PORT DB BUCKET: start (or restart) node NAME in the background.
serve() {
	setsid "$WORK/imgate" serve --listen "127.0.0.1:$2" --data "$WORK/data-$1" --database "$3" --bucket "$4" \
		--workers "$WORKERS" --storage s3 --s3-endpoint "127.0.0.1:$MINIO_PORT" \
		--s3-access-key "$BACKEND_ACCESS_KEY" --s3-secret-key "$BACKEND_SECRET_KEY" \
		>>"$WORK/$1.log" 2>&1 </dev/null &
	echo $! >"$WORK/$1.pid"
	disown
	wait_ready "http://127.0.0.1:$2/readyz"
}
stop() { kill "$(cat "$WORK/$1.pid")" 2>/dev/null || true; rm -f "$WORK/$1.pid"; }

run_load() { # LABEL BUCKET ENDPOINTS [MIDWAY]
	echo "== $1: $N uploads, $C clients, endpoints $3" | tee -a "$WORK/summary"
	"$WORK/loadclient" -n "$N" -c "$C" -endpoints "$3" -bucket "$2" -backend "127.0.0.1:$MINIO_PORT" \
		-w "${SIZE%x*}" -h "${SIZE#*x}" -wait "$WAIT" -midway "${4:-}" | tee -a "$WORK/summary"
}

# --- one process ---
DB1=$(new_db imgate_load_one)
P1=$(free_port)
serve one "$P1" "$DB1" loadone
run_load "one process" loadone "127.0.0.1:$P1"
stop one

# --- two processes, B killed and restarted midway ---
DB2=$(new_db imgate_load_two)
PA=$(free_port)
PB=$(free_port)
serve a "$PA" "$DB2" loadtwo
serve b "$PB" "$DB2" loadtwo
declare -f serve wait_ready >"$WORK/funcs.sh"
cat >"$WORK/restart-b.sh" <<EOS
set -e
WORK=$WORK MINIO_PORT=$MINIO_PORT WORKERS=$WORKERS
. "$WORK/funcs.sh"
kill -9 "\$(cat "$WORK/b.pid")"
echo "node B killed at \$(date +%T.%N | cut -c1-12)"
sleep 1
serve b "$PB" "$DB2" loadtwo
echo "node B restarted, ready at \$(date +%T.%N | cut -c1-12)"
EOS
run_load "two processes, node B kill -9'd and restarted midway" loadtwo "127.0.0.1:$PA,127.0.0.1:$PB" "bash $WORK/restart-b.sh"
grep -h "jobs interrupted by the previous process" "$WORK/b.log" | tail -1 | sed 's/^/node B after restart: /' | tee -a "$WORK/summary" || true
stop a
stop b

echo
echo "=== summary ($(date -u +%F), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $WORKERS workers per process, $SIZE JPEGs) ==="
cat "$WORK/summary"
