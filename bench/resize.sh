#!/usr/bin/env bash
# Resize throughput and memory: imgate resize vs ImageMagick, in one run, on
# the same corpus, with the same 2 parallel workers and the 3 classic presets
# (50x50, 150x, x150).
#
#   bench/resize.sh [CORPUS_DIR]      # default $IMGATE_CORPUS or ../shared/corpus
#   WORKERS=2 ROUNDS=3 bench/resize.sh /work/shared/corpus   (the defaults)
#
# Compared:
#   imgate         imgate resize --workers 2 (decode once, orient, 3 presets)
#   im-3proc       the classic way: one `convert in -resize G out` per preset
#   im-1proc       one convert per image writing all 3 outputs (+clone/-write)
#   im-jpegsize    the same with -define jpeg:size=300x300 (DCT-scaled JPEG
#                  decoding: the best-tuned ImageMagick)
#   sharp          libvips through npm sharp, in-process, shrink-on-load, one
#                  node process with WORKERS files in flight (bench/sharp-resize.cjs;
#                  sharp is installed into $NODEDIR); skipped without node/npm
#   djpeg          decode only: `djpeg -scale n/8` of every JPEG at the scale
#                  imgate decodes it at (bench/jpegplan), WORKERS in parallel —
#                  the floor for the JPEGs' share of the work
# For each: best wall time over the rounds, img/s, imgate's speed-up over
# it, the best CPU time (user+sys; steadier than wall time on a shared
# machine) and the peak RSS of the largest single process (GNU time's
# "Maximum resident set size").
# Targets (issue 3): imgate ≥ 3× faster than im-3proc, as fast as im-jpegsize,
# peak RSS ≤ 150 MB with 2 workers. Issue 13: ≤ 0.65× im-jpegsize's and
# ≤ 0.45× sharp's wall time, peak RSS ≤ 100 MB.
#
# Needs: go (or IMGATE_BIN), /usr/bin/convert (Debian imagemagick),
# /usr/bin/time (Debian package "time").
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CORPUS=${1:-${IMGATE_CORPUS:-$ROOT/../shared/corpus}}
WORKERS=${WORKERS:-2}
ROUNDS=${ROUNDS:-3}
CONVERT=${CONVERT:-/usr/bin/convert}
DJPEG=${DJPEG:-$(command -v djpeg || true)}
NODEDIR=${NODEDIR:-$HOME/.cache/imgate-bench/node}
TIME=/usr/bin/time

[ -d "$CORPUS" ] || { echo "bench: corpus $CORPUS not found (argument or IMGATE_CORPUS)" >&2; exit 2; }
[ -x "$CONVERT" ] || { echo "bench: $CONVERT (ImageMagick) not found" >&2; exit 2; }
[ -x "$TIME" ] || { echo "bench: $TIME not found (apt-get install time)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/imgate-resize-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

IMGATE=${IMGATE_BIN:-}
if [ -z "$IMGATE" ]; then
	IMGATE=$WORK/imgate
	(cd "$ROOT" && CGO_ENABLED=0 go build -tags nodynamic -o "$IMGATE" ./cmd/imgate)
fi
(cd "$ROOT" && go build -o "$WORK/jpegplan" ./bench/jpegplan)
SHARP=0
if command -v node >/dev/null && command -v npm >/dev/null; then
	if [ ! -d "$NODEDIR/node_modules/sharp" ]; then
		mkdir -p "$NODEDIR"
		npm install --silent --no-audit --no-fund --prefix "$NODEDIR" sharp >&2 || true
	fi
	[ -d "$NODEDIR/node_modules/sharp" ] && SHARP=1
fi
[ "$SHARP" = 1 ] || echo "bench: node/npm or sharp missing: no sharp row" >&2

mapfile -t FILES < <(find "$CORPUS" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' -o -iname '*.gif' \) | sort)
N=${#FILES[@]}
[ "$N" -gt 0 ] || { echo "bench: no images in $CORPUS" >&2; exit 2; }
GEOMS=(50x50 150x x150)

# Job lists for xargs (one line per process).
: >"$WORK/im3.jobs"
: >"$WORK/im1.jobs"
: >"$WORK/imj.jobs"
for f in "${FILES[@]}"; do
	b=$(basename "$f")
	for g in "${GEOMS[@]}"; do
		printf '%s\0%s\0%s\0' "$f[0]" "$g" "$WORK/out-im3/$g/$b" >>"$WORK/im3.jobs"
	done
	printf '%s\0%s\0' "$f[0]" "$b" >>"$WORK/im1.jobs"
done
mkdir -p "$WORK/out-im3"/{50x50,150x,x150} "$WORK/out-im1"/{50x50,150x,x150} "$WORK/out-imj"/{50x50,150x,x150} "$WORK/out-sharp"/{50x50,150x,x150}
# djpeg jobs: each JPEG at the scale imgate decodes it at.
"$WORK/jpegplan" -sizes "$(IFS=,; echo "${GEOMS[*]}")" "${FILES[@]}" 2>/dev/null |
	while IFS=$'\t' read -r f sc; do
		case ${f,,} in *.jpg | *.jpeg) printf '%s\0%s\0' "$sc" "$f" ;; esac
	done >"$WORK/djpeg.jobs"

cat >"$WORK/im1.sh" <<EOF
#!/bin/sh
# \$1 = input, \$2 = basename, \$3 = output dir, \$4.. = extra options before the input
in=\$1; b=\$2; out=\$3; shift 3
exec "$CONVERT" "\$@" "\$in" \\
	\\( +clone -resize 50x50 -write "\$out/50x50/\$b" +delete \\) \\
	\\( +clone -resize 150x -write "\$out/150x/\$b" +delete \\) \\
	-resize x150 "\$out/x150/\$b"
EOF
chmod +x "$WORK/im1.sh"

# run NAME CMD… : runs once under GNU time; keeps the best wall time, the
# best CPU time (user+sys, less sensitive to other load on the machine) and
# the largest max RSS (kB) over the rounds.
declare -A WALL CPU RSS
run() {
	local name=$1
	shift
	rm -rf "$WORK/out-imgate"
	local t0 t1 w r c
	t0=$(date +%s.%N)
	"$TIME" -f '%M %U %S' -o "$WORK/$name.time" "$@" >"$WORK/$name.log" 2>&1 || {
		echo "bench: $name failed:" >&2
		tail -20 "$WORK/$name.log" >&2
		exit 1
	}
	t1=$(date +%s.%N)
	w=$(echo "$t1 - $t0" | bc -l)
	read -r r u sy < <(tail -1 "$WORK/$name.time")
	c=$(echo "$u + $sy" | bc -l)
	if [ -z "${WALL[$name]:-}" ] || [ "$(echo "$w < ${WALL[$name]}" | bc -l)" = 1 ]; then WALL[$name]=$w; fi
	if [ -z "${CPU[$name]:-}" ] || [ "$(echo "$c < ${CPU[$name]}" | bc -l)" = 1 ]; then CPU[$name]=$c; fi
	if [ -z "${RSS[$name]:-}" ] || [ "$r" -gt "${RSS[$name]}" ]; then RSS[$name]=$r; fi
}

echo "corpus: $CORPUS ($N images), presets: ${GEOMS[*]}, workers: $WORKERS, rounds: $ROUNDS (best wall time kept)"
echo "imgate: $IMGATE"
echo "ImageMagick: $("$CONVERT" -version | head -1)"
echo

# Rounds interleave the four runs so that load from elsewhere hits all alike.
for round in $(seq 1 "$ROUNDS"); do
	echo "round $round/$ROUNDS…" >&2
	run imgate "$IMGATE" resize --workers "$WORKERS" --sizes 50x50,150x,x150 --out "$WORK/out-imgate" "${FILES[@]}"
	run im-3proc xargs -0 -a "$WORK/im3.jobs" -P "$WORKERS" -n 3 sh -c '"$0" "$1" -resize "$2" "$3"' "$CONVERT"
	run im-1proc xargs -0 -a "$WORK/im1.jobs" -P "$WORKERS" -n 2 sh -c '"$0" "$2" "$3" "$1"' "$WORK/im1.sh" "$WORK/out-im1"
	run im-jpegsize xargs -0 -a "$WORK/im1.jobs" -P "$WORKERS" -n 2 sh -c '"$0" "$2" "$3" "$1" -define jpeg:size=300x300' "$WORK/im1.sh" "$WORK/out-imj"
	[ "$SHARP" = 1 ] && run sharp env NODE_PATH="$NODEDIR/node_modules" node "$ROOT/bench/sharp-resize.cjs" "$WORKERS" "$WORK/out-sharp" "${FILES[@]}"
	[ -n "$DJPEG" ] && run djpeg xargs -0 -a "$WORK/djpeg.jobs" -P "$WORKERS" -n 2 "$DJPEG" -outfile /dev/null -scale
done
NAMES=(imgate im-3proc im-1proc im-jpegsize)
[ "$SHARP" = 1 ] && NAMES+=(sharp)
[ -n "$DJPEG" ] && NAMES+=(djpeg)

grep -E 'ok, ' "$WORK/imgate.log" | sed 's/^/imgate says: /' || true
echo
printf '%-12s %9s %8s %14s %9s %14s %14s\n' run 'wall (s)' 'img/s' 'imgate faster' 'CPU (s)' 'imgate (CPU)' 'peak RSS (MB)'
for name in "${NAMES[@]}"; do
	w=${WALL[$name]}
	printf '%-12s %9.2f %8.2f %13.2fx %9.2f %13.2fx %14.0f\n' "$name" "$w" "$(echo "$N / $w" | bc -l)" \
		"$(echo "$w / ${WALL[imgate]}" | bc -l)" "${CPU[$name]}" "$(echo "${CPU[$name]} / ${CPU[imgate]}" | bc -l)" \
		"$(echo "${RSS[$name]} / 1024" | bc -l)"
done
echo
ok=1
r3=$(echo "${WALL[im-3proc]} / ${WALL[imgate]}" | bc -l)
rj=$(echo "${WALL[im-jpegsize]} / ${WALL[imgate]}" | bc -l)
mb=$(echo "${RSS[imgate]} / 1024" | bc -l)
printf 'required: >= 3x faster than im-3proc ...... %.2fx  %s\n' "$r3" "$([ "$(echo "$r3 >= 3" | bc -l)" = 1 ] && echo PASS || { ok=0; echo FAIL; })"
printf 'target:   as fast as im-jpegsize .......... %.2fx  %s\n' "$rj" "$([ "$(echo "$rj >= 1" | bc -l)" = 1 ] && echo PASS || echo MISSED)"
printf 'required: imgate peak RSS <= 150 MB ....... %.0f MB  %s\n' "$mb" "$([ "$(echo "$mb <= 150" | bc -l)" = 1 ] && echo PASS || { ok=0; echo FAIL; })"
# issue 13: imgate's wall time as a fraction of the peer's
frac() { echo "${WALL[imgate]} / ${WALL[$1]}" | bc -l; }
fj=$(frac im-jpegsize)
printf 'target:   <= 0.65x im-jpegsize wall time .. %.2fx  %s\n' "$fj" "$([ "$(echo "$fj <= 0.65" | bc -l)" = 1 ] && echo PASS || echo MISSED)"
if [ "$SHARP" = 1 ]; then
	fs=$(frac sharp)
	printf 'target:   <= 0.45x sharp wall time ........ %.2fx  %s\n' "$fs" "$([ "$(echo "$fs <= 0.45" | bc -l)" = 1 ] && echo PASS || echo MISSED)"
fi
printf 'target:   imgate peak RSS <= 100 MB ....... %.0f MB  %s\n' "$mb" "$([ "$(echo "$mb <= 100" | bc -l)" = 1 ] && echo PASS || echo MISSED)"
[ "$ok" = 1 ]
