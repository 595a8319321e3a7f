#!/usr/bin/env bash
# Upload throughput and memory of imgate's S3 surface.
#
# Uploads one SIZE_MB object (default 100 MiB) with aws-cli v2 (/usr/bin/aws,
# default settings plus endpoint, credentials and path-style, 8 MiB parts as
# in the project's client recipe) three times per round: directly to MinIO,
# through a bare reverse proxy to the same MinIO (bench/passproxy: the cost
# of any gateway hop, nothing else), and through `imgate serve` (MinIO
# backend); the order rotates between rounds, and each upload starts only
# once imgate's resize job of the previous one has finished. Prints per
# round and as medians the wall-clock throughput of each and the CPU time
# aws-cli, MinIO, the proxy and imgate spent on it, the throughput ratio
# imgate/direct (target >= 0.95) as the median of each round's own ratio —
# the uploads of a round run back to back, so a machine that slows down or
# speeds up between rounds moves them all — and, for reference, the ratio
# of the median throughputs, which such drift does move; the same paired
# ratios proxy/direct and imgate/proxy (what imgate costs beyond being a
# hop); and imgate's peak RSS (target < 100 MB and flat in the object size).
#
#   bench/upload.sh                 # 100 MiB, 9 rounds, about 1.5 minutes
#   SIZE_MB=1024 bench/upload.sh    # 1 GiB, 5 rounds, about 3.5 minutes
#   IMGATE_BIN=/path/to/imgate bench/upload.sh   # skip the go build
#
# Needs: go, /usr/bin/aws, jq, a minio server binary (IMGATE_MINIO_BIN, PATH, or
# ~/.cache/imgate-ci/bin/minio). Everything listens on 127.0.0.1 only.
set -euo pipefail

SIZE_MB=${SIZE_MB:-100}
# Small objects: more rounds, as aws-cli's start-up (about 1 s) is most
# of an upload's time and moves by a tenth from one upload to the next.
if [ "$SIZE_MB" -le 256 ]; then ROUNDS=${ROUNDS:-9}; else ROUNDS=${ROUNDS:-5}; fi
AWS=${AWS:-/usr/bin/aws}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MINIO=${IMGATE_MINIO_BIN:-$(command -v minio || echo "$HOME/.cache/imgate-ci/bin/minio")}

[ -x "$AWS" ] || { echo "bench: $AWS (aws-cli v2) not found" >&2; exit 2; }
[ -x "$MINIO" ] || { echo "bench: minio binary not found (set IMGATE_MINIO_BIN)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/imgate-bench.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
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
	echo "bench: $1 not ready" >&2
	return 1
}
now() { date +%s.%N; }

if [ -n "${IMGATE_BIN:-}" ]; then
	cp "$IMGATE_BIN" "$WORK/imgate"
else
	echo "building imgate…" >&2
	(cd "$ROOT" && CGO_ENABLED=0 go build -tags nodynamic -o "$WORK/imgate" ./cmd/imgate)
fi
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$WORK/passproxy" ./bench/passproxy)

MINIO_PORT=$(free_port)
MINIO_USER=benchminio
MINIO_PASS=benchminio-secret-123
MINIO_ROOT_USER=$MINIO_USER MINIO_ROOT_PASSWORD=$MINIO_PASS MINIO_BROWSER=off MINIO_UPDATE=off \
	"$MINIO" server "$WORK/minio" --address "127.0.0.1:$MINIO_PORT" --console-address "127.0.0.1:$(free_port)" --quiet \
	>"$WORK/minio.log" 2>&1 &
MINIO_PID=$!
PIDS+=($MINIO_PID)
wait_ready "http://127.0.0.1:$MINIO_PORT/minio/health/ready"

PROXY_PORT=$(free_port)
"$WORK/passproxy" -listen "127.0.0.1:$PROXY_PORT" -backend "127.0.0.1:$MINIO_PORT" >"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=($PROXY_PID)
wait_ready "http://127.0.0.1:$PROXY_PORT/minio/health/ready"

IMGATE_PORT=$(free_port)
IMGATE_AK=AKBENCH
IMGATE_SK=bench-secret-key-0123456789
IMGATE_ADMIN=adm_bench_0123456789abcdef
IMGATE_ACCESS_KEY=$IMGATE_AK IMGATE_SECRET_KEY=$IMGATE_SK \
	IMGATE_ADMIN_TOKEN=$IMGATE_ADMIN IMGATE_API_KEY=key_bench_0123456789abcdef \
	IMGATE_EVENTS_TOKEN=evt_bench_0123456789abcdef IMGATE_TOKEN_SECRET=bench-token-secret-0123456789abcdef0123 \
	"$WORK/imgate" serve --listen "127.0.0.1:$IMGATE_PORT" --data "$WORK/data" --log-level debug \
	--max-upload-bytes $((SIZE_MB * 2 * 1024 * 1024)) \
	--storage s3 --s3-endpoint "127.0.0.1:$MINIO_PORT" --s3-access-key "$MINIO_USER" --s3-secret-key "$MINIO_PASS" \
	>"$WORK/imgate.log" 2>&1 &
IMGATE_PID=$!
PIDS+=($IMGATE_PID)
wait_ready "http://127.0.0.1:$IMGATE_PORT/readyz"

# The object: a real JPEG followed by random bytes (imgate sniffs the first
# bytes, so it is accepted as image/jpeg).
OBJ="$WORK/object.jpg"
SEED="$ROOT/../shared/corpus/e01_iphone4s_orient6_205x102.jpg"
if [ -f "${IMGATE_CORPUS:-}/e01_iphone4s_orient6_205x102.jpg" ]; then SEED="$IMGATE_CORPUS/e01_iphone4s_orient6_205x102.jpg"; fi
if [ -f "$SEED" ]; then cat "$SEED" >"$OBJ"; else printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00' >"$OBJ"; fi
head -c $((SIZE_MB * 1024 * 1024 - $(stat -c %s "$OBJ"))) /dev/urandom >>"$OBJ"
BYTES=$(stat -c %s "$OBJ")

cat >"$WORK/aws-config" <<'EOF'
[default]
region = us-east-1
s3 =
    addressing_style = path
    signature_version = s3v4
    multipart_threshold = 8MB
    multipart_chunksize = 8MB
EOF
export AWS_CONFIG_FILE="$WORK/aws-config" AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_DEFAULT_REGION=us-east-1 \
	AWS_EC2_METADATA_DISABLED=true AWS_PAGER=
aws_direct() { AWS_ACCESS_KEY_ID=$MINIO_USER AWS_SECRET_ACCESS_KEY=$MINIO_PASS "$AWS" --endpoint-url "http://127.0.0.1:$MINIO_PORT" "$@"; }
aws_proxy() { AWS_ACCESS_KEY_ID=$MINIO_USER AWS_SECRET_ACCESS_KEY=$MINIO_PASS "$AWS" --endpoint-url "http://127.0.0.1:$PROXY_PORT" "$@"; }
aws_imgate() { AWS_ACCESS_KEY_ID=$IMGATE_AK AWS_SECRET_ACCESS_KEY=$IMGATE_SK "$AWS" --endpoint-url "http://127.0.0.1:$IMGATE_PORT" "$@"; }

aws_direct s3 mb s3://bench-direct >/dev/null
aws_direct s3 mb s3://bench-proxy >/dev/null

# aws-cli's own start-up time (the same for every target), for reference.
t0=$(now); aws_imgate s3 ls s3://imgate-original/ >/dev/null; t1=$(now)
STARTUP=$(echo "$t1 - $t0" | bc -l)

# sample_rss FILE KEY: record imgate's largest VmRSS (kB) into FILE until
# the CompleteMultipartUpload of KEY has been answered (the second POST on
# the key in imgate's debug request log; the first is CreateMultipartUpload)
# or until killed. The resize job that upload triggers runs after that.
# It runs during a timed upload, so it starts no process: bash builtins
# read the log from where they left off and /proc, and wait on a FIFO
# nobody writes to (a grep, an awk and a sleep every 50 ms took a few
# percent of a core from that upload).
sample_rss() {
	local max=0 posts=0 part="" line k v _ log fifo
	mkfifo "$WORK/never"
	exec {fifo}<>"$WORK/never" {log}<"$WORK/imgate.log"
	while :; do
		while IFS= read -r line <&"$log"; do
			line=$part$line part=""
			[[ $line == *"method=POST path=/imgate-original/$2 "* ]] && posts=$((posts + 1))
		done
		part+=$line # a line still being written: the rest comes next time
		[ "$posts" -ge 2 ] && break
		while read -r k v _; do
			if [ "$k" = VmRSS: ]; then
				if [ "$v" -gt "$max" ]; then max=$v; echo "$max" >"$1"; fi
				break
			fi
		done <"/proc/$IMGATE_PID/status"
		read -r -t 0.05 -u "$fifo" _ || true
	done
}
echo 0 >"$WORK/upload-rss"

# cpu PID: the user+system CPU time the process has used so far, in seconds.
TICK=$(getconf CLK_TCK)
cpu() { awk -v t="$TICK" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }
# kids: the user+system CPU time of this shell's waited-for children so
# far (aws-cli's, read around each upload), in seconds.
kids() { awk -v t="$TICK" '{printf "%.2f", ($16 + $17) / t}' "/proc/$$/stat"; }
# wait_idle: until imgate has no resize job queued, running or retrying (the
# job of an upload reads the original back from MinIO: for this object only
# the JPEG at its start, up to its end of image), at most 5 min.
wait_idle() {
	local busy
	for _ in $(seq 1 3000); do
		busy=$(curl -fs -H "Authorization: Bearer $IMGATE_ADMIN" "http://127.0.0.1:$IMGATE_PORT/v1/admin/stats" |
			jq '.counts.queued + .counts.running + .counts.retrying' || echo 1)
		[ "$busy" = 0 ] && return 0
		sleep 0.1
	done
	echo "bench: imgate still has resize jobs after 5 min" >&2
}
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
mibs() { echo "$BYTES / 1048576 / $1" | bc -l; }

# direct ROUND / via_proxy ROUND / via_imgate ROUND: one timed upload;
# appends "wall cpu..." to $WORK/t-direct, t-proxy or t-imgate.
direct() {
	wait_idle
	local m0 m1 a0 a1 t0 t1
	m0=$(cpu "$MINIO_PID"); a0=$(kids); t0=$(now)
	aws_direct s3 cp --only-show-errors "$OBJ" "s3://bench-direct/obj-$1.jpg"
	t1=$(now); m1=$(cpu "$MINIO_PID"); a1=$(kids)
	echo "$(echo "$t1 - $t0" | bc -l) $(echo "$m1 - $m0" | bc -l) $(echo "$a1 - $a0" | bc -l)" >>"$WORK/t-direct"
}
via_proxy() {
	wait_idle
	local m0 m1 p0 p1 a0 a1 t0 t1
	m0=$(cpu "$MINIO_PID"); p0=$(cpu "$PROXY_PID"); a0=$(kids); t0=$(now)
	aws_proxy s3 cp --only-show-errors "$OBJ" "s3://bench-proxy/obj-$1.jpg"
	t1=$(now); m1=$(cpu "$MINIO_PID"); p1=$(cpu "$PROXY_PID"); a1=$(kids)
	echo "$(echo "$t1 - $t0" | bc -l) $(echo "$m1 - $m0" | bc -l) $(echo "$p1 - $p0" | bc -l) $(echo "$a1 - $a0" | bc -l)" >>"$WORK/t-proxy"
}
via_imgate() {
	wait_idle
	local m0 m1 g0 g1 a0 a1 t0 t1
	# The first upload is sampled, up to its completion, before any resize
	# job has run: the resizer holds the original it reads (a whole one,
	# up to its MaxBytes, unless it is a JPEG with bytes after its end) in
	# memory, which would hide the upload path's own footprint.
	if [ "$1" = 1 ]; then
		sample_rss "$WORK/upload-rss" "bench/obj-1.jpg" &
		SAMPLER=$!
	fi
	m0=$(cpu "$MINIO_PID"); g0=$(cpu "$IMGATE_PID"); a0=$(kids); t0=$(now)
	aws_imgate s3 cp --only-show-errors "$OBJ" "s3://imgate-original/bench/obj-$1.jpg"
	t1=$(now); m1=$(cpu "$MINIO_PID"); g1=$(cpu "$IMGATE_PID"); a1=$(kids)
	if [ "$1" = 1 ]; then kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; fi
	echo "$(echo "$t1 - $t0" | bc -l) $(echo "$m1 - $m0" | bc -l) $(echo "$g1 - $g0" | bc -l) $(echo "$a1 - $a0" | bc -l)" >>"$WORK/t-imgate"
}

for r in $(seq 1 "$ROUNDS"); do
	# Rotate the order, so that none always follows another.
	case $((r % 3)) in
	1) direct "$r"; via_proxy "$r"; via_imgate "$r" ;;
	2) via_proxy "$r"; via_imgate "$r"; direct "$r" ;;
	0) via_imgate "$r"; direct "$r"; via_proxy "$r" ;;
	esac
	read -r d dm da < <(tail -1 "$WORK/t-direct")
	read -r p pm pp pa < <(tail -1 "$WORK/t-proxy")
	read -r i im ig ia < <(tail -1 "$WORK/t-imgate")
	echo "$d / $i" | bc -l >>"$WORK/ratios"
	echo "$d / $p" | bc -l >>"$WORK/ratios-proxy"
	echo "$p / $i" | bc -l >>"$WORK/ratios-imgate-proxy"
	printf 'round %d: direct %.2f s (%.1f MiB/s, CPU aws-cli %.2f s + MinIO %.2f s)\n' "$r" "$d" "$(mibs "$d")" "$da" "$dm"
	printf '         proxy  %.2f s (%.1f MiB/s, CPU aws-cli %.2f s + MinIO %.2f s + proxy %.2f s)\n' "$p" "$(mibs "$p")" "$pa" "$pm" "$pp"
	printf '         imgate %.2f s (%.1f MiB/s, CPU aws-cli %.2f s + MinIO %.2f s + imgate %.2f s)\n' "$i" "$(mibs "$i")" "$ia" "$im" "$ig"
done
# Byte-identical check of the last upload, through imgate.
aws_imgate s3 cp --only-show-errors "s3://imgate-original/bench/obj-$ROUNDS.jpg" "$WORK/back.jpg"
if ! cmp -s "$OBJ" "$WORK/back.jpg"; then
	echo "bench: object read back through imgate differs" >&2
	exit 1
fi
rm -f "$WORK/back.jpg"

# Anything unusual on imgate's side: error answers and slow requests.
ERRS=$(grep -c 'msg=request route=s3 .*status=[45]' "$WORK/imgate.log" || true)
SLOW=$(grep 'msg=request route=s3' "$WORK/imgate.log" | awk '{for (i=1;i<=NF;i++) if ($i ~ /^duration_ms=/) {split($i,a,"="); if (a[2] > 2000) print}}' || true)
if [ "$ERRS" != 0 ] || [ -n "$SLOW" ]; then
	echo "imgate: $ERRS error answers; requests slower than 2 s:" >&2
	echo "$SLOW" | head -20 >&2
	grep -E 'level=(WARN|ERROR)' "$WORK/imgate.log" | head -20 >&2 || true
fi

HWM_KB=$(awk '/^VmHWM:/ {print $2}' "/proc/$IMGATE_PID/status")
RSS_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$IMGATE_PID/status")
MED_D=$(awk '{print $1}' "$WORK/t-direct" | median)
MED_P=$(awk '{print $1}' "$WORK/t-proxy" | median)
MED_I=$(awk '{print $1}' "$WORK/t-imgate" | median)
RATIO=$(echo "$MED_D / $MED_I" | bc -l)

printf '\nobject: %d MiB, %d rounds (medians), aws-cli start-up %.2f s included in each\n' "$SIZE_MB" "$ROUNDS" "$STARTUP"
printf 'direct to MinIO : %.1f MiB/s   CPU: aws-cli %.2f s + MinIO %.2f s\n' "$(mibs "$MED_D")" \
	"$(awk '{print $3}' "$WORK/t-direct" | median)" "$(awk '{print $2}' "$WORK/t-direct" | median)"
printf 'through a proxy : %.1f MiB/s   CPU: aws-cli %.2f s + MinIO %.2f s + proxy %.2f s\n' "$(mibs "$MED_P")" \
	"$(awk '{print $4}' "$WORK/t-proxy" | median)" "$(awk '{print $2}' "$WORK/t-proxy" | median)" "$(awk '{print $3}' "$WORK/t-proxy" | median)"
printf 'through imgate  : %.1f MiB/s   CPU: aws-cli %.2f s + MinIO %.2f s + imgate %.2f s\n' "$(mibs "$MED_I")" \
	"$(awk '{print $4}' "$WORK/t-imgate" | median)" "$(awk '{print $2}' "$WORK/t-imgate" | median)" "$(awk '{print $3}' "$WORK/t-imgate" | median)"
printf 'throughput ratio: %.3f (target >= 0.95), the median of the rounds'"'"' own ratios; ratio of the medians %.3f\n' "$(median <"$WORK/ratios")" "$RATIO"
printf 'bare proxy      : %.3f of direct (paired; ratio of the medians %.3f): what any hop costs here\n' \
	"$(median <"$WORK/ratios-proxy")" "$(echo "$MED_D / $MED_P" | bc -l)"
printf 'imgate vs proxy : %.3f (paired; ratio of the medians %.3f): what imgate costs beyond the hop\n' \
	"$(median <"$WORK/ratios-imgate-proxy")" "$(echo "$MED_P / $MED_I" | bc -l)"
UPLOAD_KB=$(cat "$WORK/upload-rss")
printf 'imgate peak RSS while uploading: %.1f MB (first upload until completed, sampled every 50 ms; target < 100 MB)\n' "$(echo "$UPLOAD_KB / 1024" | bc -l)"
printf 'imgate peak RSS overall        : %.1f MB (VmHWM, includes the resize job of each upload; now %.1f MB)\n' \
	"$(echo "$HWM_KB / 1024" | bc -l)" "$(echo "$RSS_KB / 1024" | bc -l)"
