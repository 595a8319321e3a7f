#!/usr/bin/env bash
# Builds the WebP/HEIC/AVIF/animation/colour samples the resizer tests and
# bench/decode.sh use, from the shared corpus, with Debian's tools:
# heif-enc (libheif-examples), avifenc (libavif-bin), cwebp/img2webp/gif2webp
# (webp), ImageMagick and ICC profiles (icc-profiles-free, colord-data),
# exiftool. Deterministic for a given set of tool versions.
#
#   scripts/make-samples.sh OUTDIR [CORPUS] [--big]
#
# --big also writes the 12 MP bench sources (big.heic, big.avif, big.webp,
# big.png). OUTDIR/MANIFEST.tsv names each sample's corpus source and its
# licence and author (from the corpus MANIFEST.tsv).
set -euo pipefail

out=${1:?usage: make-samples.sh OUTDIR [CORPUS] [--big]}
corpus=${2:-$(cd "$(dirname "$0")/.." && pwd)/../shared/corpus}
big=false
for a in "$@"; do [[ $a == --big ]] && big=true; done
[[ -f $corpus/MANIFEST.tsv ]] || { echo "no corpus at $corpus" >&2; exit 2; }
IM=/usr/bin/convert
SRGB=/usr/share/color/icc/colord/sRGB.icc
PROPHOTO=/usr/share/color/icc/colord/ProPhotoRGB.icc
ADOBE=/usr/share/color/icc/colord/AdobeRGB1998.icc
for t in "$IM" heif-enc avifenc cwebp img2webp gif2webp exiftool; do
	command -v "$t" >/dev/null || { echo "missing tool: $t" >&2; exit 2; }
done
for f in "$SRGB" "$PROPHOTO" "$ADOBE"; do [[ -f $f ]] || { echo "missing profile: $f" >&2; exit 2; }; done
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
q() { "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@"; exit 1; }; }

manifest=$out/MANIFEST.tsv
printf 'sample\tsource\tlicense\tauthor_note\thow\n' >"$manifest"
add() { # sample source how
	local lic
	lic=$(awk -F'\t' -v f="$2" '$1 == f { print $11 "\t" $12 }' "$corpus/MANIFEST.tsv")
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$lic" "$3" >>"$manifest"
}

photo=j14_colorfulcups_2560x1600.jpg
rgba=p02_patak_5120x2880_rgba.png
orient=e01_iphone4s_orient6_205x102.jpg
anim=g01_notime_14x25_anim24.gif
q "$IM" "$corpus/$photo" -resize 640x400 -strip "$tmp/base.png"
q "$IM" "$corpus/$rgba" -resize 480x270 -strip "$tmp/rgba.png"

# WebP: lossy, lossless, alpha, animated (from a GIF, and from frames with
# their own delays and a loop count).
q cwebp -q 85 "$tmp/base.png" -o "$out/photo.webp" && add photo.webp "$photo" "cwebp -q 85"
q cwebp -lossless "$tmp/base.png" -o "$out/lossless.webp" && add lossless.webp "$photo" "cwebp -lossless"
q cwebp -q 85 -alpha_q 100 "$tmp/rgba.png" -o "$out/alpha.webp" && add alpha.webp "$rgba" "cwebp -q 85 -alpha_q 100"
q gif2webp "$corpus/$anim" -o "$out/anim.webp" && add anim.webp "$anim" "gif2webp"
for i in 0 1 2; do
	q "$IM" "$tmp/base.png" -resize 160x100 -modulate 100,100,$((60 + 40 * i)) "$tmp/f$i.png"
done
q img2webp -loop 3 -lossy -d 80 "$tmp/f0.png" -d 120 "$tmp/f1.png" -d 200 "$tmp/f2.png" -o "$out/anim3.webp" &&
	add anim3.webp "$photo" "img2webp -loop 3, delays 80/120/200 ms"
q "$IM" -delay 8 "$tmp/f0.png" -delay 12 "$tmp/f1.png" -delay 20 "$tmp/f2.png" -loop 3 "$out/anim3.gif" &&
	add anim3.gif "$photo" "ImageMagick, delays 80/120/200 ms, loop 3"

# HEIC and AVIF: photo, alpha, an orientation-6 JPEG (irot/imir plus the
# EXIF orientation kept inside), 10-bit AVIF, and Display P3 as nclx.
q heif-enc -q 80 "$tmp/base.png" -o "$out/photo.heic" && add photo.heic "$photo" "heif-enc -q 80"
q heif-enc -q 80 "$tmp/rgba.png" -o "$out/alpha.heic" && add alpha.heic "$rgba" "heif-enc -q 80"
q heif-enc -q 80 "$corpus/$orient" -o "$out/orient6.heic" && add orient6.heic "$orient" "heif-enc -q 80 (EXIF orientation 6)"
q avifenc -s 8 "$tmp/base.png" "$out/photo.avif" && add photo.avif "$photo" "avifenc -s 8"
q avifenc -s 8 "$tmp/rgba.png" "$out/alpha.avif" && add alpha.avif "$rgba" "avifenc -s 8"
q avifenc -s 8 "$corpus/$orient" "$out/orient6.avif" && add orient6.avif "$orient" "avifenc -s 8 (irot/imir + EXIF orientation 6)"
q avifenc -s 8 -d 10 "$tmp/base.png" "$out/deep10.avif" && add deep10.avif "$photo" "avifenc -s 8 -d 10"
# Orientations 2..8 of one JPEG as AVIF (libavif turns EXIF into irot/imir).
q "$IM" "$corpus/$photo" -resize 192x120 -strip "$tmp/o.jpg"
for o in 2 3 4 5 7 8; do
	cp "$tmp/o.jpg" "$tmp/o$o.jpg"
	q exiftool -q -overwrite_original -n -Orientation=$o "$tmp/o$o.jpg"
	q avifenc -s 8 "$tmp/o$o.jpg" "$out/orient$o.avif" && add "orient$o.avif" "$photo" "avifenc from an orientation-$o JPEG"
	q heif-enc -q 90 "$tmp/o$o.jpg" -o "$out/orient$o.heic" && add "orient$o.heic" "$photo" "heif-enc from an orientation-$o JPEG"
	cp "$tmp/o$o.jpg" "$out/orient$o.jpg" && add "orient$o.jpg" "$photo" "exiftool -Orientation=$o"
done

# Colour: ProPhoto and Adobe RGB tagged (pixels converted into the space,
# the profile embedded) as JPEG, lossless PNG/WebP, AVIF and HEIC.
q "$IM" "$tmp/base.png" -profile "$SRGB" -profile "$PROPHOTO" "$tmp/prophoto.png"
q "$IM" "$tmp/base.png" -profile "$SRGB" -profile "$ADOBE" "$tmp/adobe.png"
for s in prophoto adobe; do
	cp "$tmp/$s.png" "$out/$s.png" && add "$s.png" "$photo" "ImageMagick -profile sRGB -profile $s (lossless)"
	q "$IM" "$tmp/$s.png" -quality 95 "$out/$s.jpg" && add "$s.jpg" "$photo" "ImageMagick, JPEG q95, $s ICC"
	q cwebp -lossless -metadata icc "$tmp/$s.png" -o "$out/$s.webp" && add "$s.webp" "$photo" "cwebp -lossless -metadata icc"
	q avifenc -s 8 --min 0 --max 8 -y 444 "$tmp/$s.png" "$out/$s.avif" && add "$s.avif" "$photo" "avifenc --max 8 -y 444 (ICC kept)"
	q heif-enc -q 95 "$tmp/$s.png" -o "$out/$s.heic" && add "$s.heic" "$photo" "heif-enc -q 95 (ICC kept)"
done

if $big; then
	q "$IM" "$corpus/j01_kleiber_6028x3391.jpg" -resize '4000x3000!' -strip "$out/big.png"
	q heif-enc -q 80 "$out/big.png" -o "$out/big.heic"
	q avifenc -s 8 -j 2 "$out/big.png" "$out/big.avif"
	q cwebp -q 85 "$out/big.png" -o "$out/big.webp"
	for f in big.png big.heic big.avif big.webp; do add "$f" j01_kleiber_6028x3391.jpg "4000x3000 (12 MP) bench source"; done
fi
echo "samples in $out"
