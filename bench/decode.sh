#!/usr/bin/env bash
# Decode cost of the new input formats: a 12 MP (4000x3000) HEIC, AVIF and
# WebP made by scripts/make-samples.sh --big, through imgate (one 150x
# preset, so decoding dominates) next to the native decoders in the same
# run: heif-convert, avifdec, dwebp (each writing the cheapest output,
# y4m/PAM). Wall time and peak RSS from /usr/bin/time, best of RUNS.
#
# imgate's HEIC/AVIF decoders are libheif/libavif compiled to WebAssembly
# (wazero): "first" includes compiling the module (once per process),
# "next" is the cost of one more image in the same process (two images in
# one run minus one).
#
#   bench/decode.sh [RUNS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
for t in heif-convert avifdec dwebp /usr/bin/time; do
	command -v "$t" >/dev/null || { echo "missing $t (apt-get install libheif-examples libavif-bin webp time)" >&2; exit 2; }
done
IMGATE=$WORK/imgate
(cd "$ROOT" && CGO_ENABLED=0 go build -tags nodynamic -o "$IMGATE" ./cmd/imgate)
"$ROOT/scripts/make-samples.sh" "$WORK/s" "${IMGATE_CORPUS:-$ROOT/../shared/corpus}" --big >/dev/null
S=$WORK/s

# best TIME RSS of RUNS runs of a command: "seconds kilobytes"
best() {
	local bt="" br=""
	for _ in $(seq "$RUNS"); do
		/usr/bin/time -f "%e %M" -o "$WORK/t" "$@" >/dev/null 2>&1
		read -r t r <"$WORK/t"
		if [[ -z $bt ]] || awk -v a="$t" -v b="$bt" 'BEGIN{exit !(a<b)}'; then bt=$t; fi
		if [[ -z $br ]] || ((r < br)); then br=$r; fi
	done
	echo "$bt $br"
}

printf '%-6s %-26s %9s %10s\n' format decoder seconds "peak RSS"
row() { printf '%-6s %-26s %9s %7d MB\n' "$1" "$2" "$3" "$(($4 / 1024))"; }
for f in heic avif webp; do
	cp "$S/big.$f" "$WORK/a.$f"
	cp "$S/big.$f" "$WORK/b.$f"
	read -r t1 r1 < <(best "$IMGATE" resize --workers 1 --sizes 150x --out "$WORK/o" "$WORK/a.$f")
	read -r t2 r2 < <(best "$IMGATE" resize --workers 1 --sizes 150x --out "$WORK/o" "$WORK/a.$f" "$WORK/b.$f")
	row "$f" "imgate (first, compile)" "$t1" "$r1"
	row "$f" "imgate (next image)" "$(awk -v a="$t2" -v b="$t1" 'BEGIN{printf "%.2f", a-b}')" "$r2"
	case $f in
	heic) read -r t r < <(best heif-convert "$WORK/a.heic" "$WORK/out.y4m"); row heic "heif-convert (native)" "$t" "$r" ;;
	avif) read -r t r < <(best avifdec -j 1 "$WORK/a.avif" "$WORK/out.y4m"); row avif "avifdec -j 1 (native)" "$t" "$r" ;;
	webp) read -r t r < <(best dwebp "$WORK/a.webp" -pam -o "$WORK/out.pam"); row webp "dwebp (native)" "$t" "$r" ;;
	esac
done
