#!/usr/bin/env bash
# Bytes and quality per output format: imgate's encoders against sharp
# (libvips, npm) and ImageMagick, in one run, on the same pixels.
#
#   bench/bytes.sh [CORPUS_DIR]     # default $IMGATE_CORPUS or ../shared/corpus
#   QUALITY=85 FORMATS="jpeg webp avif" SIZES="150x 50x50" bench/bytes.sh
#
# Method: imgate resizes every corpus JPEG to each size as PNG (lossless):
# these are the references. Each tool then encodes the SAME reference pixels
# at the same quality setting with its defaults for the format (sharp: jpeg
# 4:2:0 with optimised Huffman tables, baseline; ImageMagick: convert
# -quality Q), so only the encoders differ. Scored by bench/bytescmp: total
# bytes, mean SSIM over R, G, B and of luma (11×11 Gaussian, against the reference), and
# mean encode time per variant (in-process for imgate and sharp; ImageMagick
# is a process per file, so its time includes start-up and PNG decoding).
#
# WebP files are decoded for scoring by libwebp's dwebp, AVIF by libavif.
# The goals compare bytes at EQUAL SSIM: for WebP and AVIF a row
# "imgate=ssim" gives imgate's bytes at the luma SSIM of imgate's JPEG,
# interpolated over preset qualities QUALITY-5 .. QUALITY+6.
#
# Needs: go, node + npm (sharp is installed into ~/.cache/imgate-bench/node),
# dwebp (Debian webp),
# /usr/bin/convert (Debian imagemagick).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CORPUS=${1:-${IMGATE_CORPUS:-$ROOT/../shared/corpus}}
QUALITY=${QUALITY:-85}
FORMATS=${FORMATS:-jpeg webp avif}
SIZES=${SIZES:-150x 50x50}
CONVERT=${CONVERT:-/usr/bin/convert}
NODEDIR=${NODEDIR:-$HOME/.cache/imgate-bench/node}

[ -d "$CORPUS" ] || { echo "bench: corpus $CORPUS not found" >&2; exit 2; }
[ -x "$CONVERT" ] || { echo "bench: $CONVERT (ImageMagick) not found" >&2; exit 2; }
command -v dwebp >/dev/null || { echo "bench: dwebp (Debian package webp) not found" >&2; exit 2; }
if [ ! -d "$NODEDIR/node_modules/sharp" ]; then
	mkdir -p "$NODEDIR"
	npm install --silent --no-audit --no-fund --prefix "$NODEDIR" sharp >&2
fi

WORK=$(mktemp -d /tmp/imgate-bytes-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
(cd "$ROOT" && go build -o "$WORK/imgate" ./cmd/imgate && go build -o "$WORK/bytescmp" ./bench/bytescmp)

mapfile -t FILES < <(find "$CORPUS" -maxdepth 1 -type f -iname '*.jpg' | sort)
[ ${#FILES[@]} -gt 0 ] || { echo "bench: no JPEGs in $CORPUS" >&2; exit 2; }

ext() { case $1 in jpeg) echo .jpg ;; webp) echo .webp ;; avif) echo .avif ;; esac; }

printf '%-6s %-7s %-12s %6s %10s %11s %9s %9s %12s\n' size format tool files bytes "×imgate-jpg" SSIM-RGB SSIM-Y "ms/variant"
for size in $SIZES; do
	ref=$WORK/ref-$size
	printf '{"presets":[{"name":"ref","geometry":"%s","format":"png"}]}' "$size" >"$WORK/cfg.json"
	"$WORK/imgate" resize --config "$WORK/cfg.json" --out "$ref" "${FILES[@]}" >/dev/null
	# resize keeps the source name: give the references a .png name.
	for f in "$ref"/ref/*; do case $f in *.png) ;; *) mv "$f" "${f%.*}.png" ;; esac; done
	mapfile -t REFS < <(find "$ref/ref" -name '*.png' | sort)
	base=
	for fmt in $FORMATS; do
		e=$(ext "$fmt")
		declare -A ms=()
		mkdir -p "$WORK/$size/$fmt/imgate" "$WORK/$size/$fmt/sharp" "$WORK/$size/$fmt/imagemagick"
		ms[imgate]=$("$WORK/bytescmp" encode -format "$fmt" -quality "$QUALITY" -out "$WORK/$size/$fmt/imgate" "${REFS[@]}")
		ms[sharp]=$(NODE_PATH=$NODEDIR/node_modules node "$ROOT/bench/sharp-encode.cjs" "$fmt" "$QUALITY" default "$WORK/$size/$fmt/sharp" "${REFS[@]}" 2>/dev/null || echo -)
		tools=(imgate sharp)
		if [ "$fmt" = jpeg ]; then
			# imgate writes 4:4:4 up to 64 px: sharp with the same sampling too.
			mkdir -p "$WORK/$size/$fmt/sharp-444"
			ms[sharp-444]=$(NODE_PATH=$NODEDIR/node_modules node "$ROOT/bench/sharp-encode.cjs" "$fmt" "$QUALITY" 4:4:4 "$WORK/$size/$fmt/sharp-444" "${REFS[@]}" 2>/dev/null || echo -)
			tools+=(sharp-444)
		fi
		tools+=(imagemagick)
		start=$(date +%s%N)
		ok=1
		for r in "${REFS[@]}"; do
			"$CONVERT" "$r" -quality "$QUALITY" "$WORK/$size/$fmt/imagemagick/$(basename "$r" .png)$e" 2>/dev/null || { ok=0; break; }
		done
		ms[imagemagick]=$([ $ok = 1 ] && echo "scale=2; ($(date +%s%N) - $start) / 1000000 / ${#REFS[@]}" | bc || echo -)
		for tool in "${tools[@]}"; do
			dir=$WORK/$size/$fmt/$tool
			if [ -z "$(ls -A "$dir")" ] || [ "${ms[$tool]}" = - ]; then
				printf '%-6s %-7s %-12s %s\n' "$size" "$fmt" "$tool" "(encoder not available)"
				continue
			fi
			read -r n bytes ssim ssimy < <("$WORK/bytescmp" score -ref "$ref/ref" "$dir")
			# The yardstick is imgate's JPEG at this size (FORMATS starts with jpeg).
			[ -n "$base" ] || { base=$bytes; basessim=$ssimy; }
			printf '%-6s %-7s %-12s %6d %10d %11s %9s %9s %12s\n' "$size" "$fmt" "$tool" "$n" "$bytes" \
				"$(echo "scale=3; $bytes / $base" | bc)" "$ssim" "$ssimy" "${ms[$tool]}"
		done
		unset ms
		# imgate's WebP/AVIF bytes at the luma SSIM of imgate's JPEG,
		# interpolated over a ladder of preset qualities around QUALITY.
		if [ "$fmt" != jpeg ] && [ -n "$base" ]; then
			eq=$("$WORK/bytescmp" ladder -format "$fmt" -target "$basessim" \
				-qualities "$((QUALITY - 5)),$((QUALITY - 2)),$QUALITY,$((QUALITY + 3)),$((QUALITY + 6))" "${REFS[@]}" |
				awk '$1 == "equal" {print $2}')
			if [ -n "$eq" ] && [ "$eq" != none ]; then
				printf '%-6s %-7s %-12s %6s %10.0f %11s %9s %9s   (imgate at the JPEG'"'"'s SSIM-Y, interpolated)\n' \
					"$size" "$fmt" "imgate=ssim" "" "$eq" "$(echo "scale=3; $eq / $base" | bc)" "" "$basessim"
			else
				printf '%-6s %-7s %-12s (JPEG'"'"'s SSIM-Y %s outside the ladder)\n' "$size" "$fmt" "imgate=ssim" "$basessim"
			fi
		fi
	done
done
