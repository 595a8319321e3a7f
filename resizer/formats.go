package resizer

import (
	"bytes"
	"fmt"
	"image"
	"slices"
	"strings"

	"github.com/gen2brain/avif"
	"github.com/gen2brain/webp"
)

// SiblingFormats are the formats a preset may add next to its primary
// variant ("formats": ["avif", "webp"]), in the order browsers prefer them.
var SiblingFormats = []string{"avif", "webp"}

// AVIF speed (libavif/libaom: 0 slowest .. 10 fastest) by variant size.
// Encode time grows with the pixels, bytes saved at a slower speed do not:
// variants of up to AVIFSmallPixels (every thumbnail of the classic
// presets) are encoded at AVIFSpeedSmall, which is sharp's default effort,
// larger ones at AVIFSpeed. Measured on the 17 corpus JPEGs at 150x in the
// WASM encoder (bench/bytes.sh): speed 5 takes about 0.45 s per variant and
// is 0.59x the JPEG's bytes at equal luma SSIM; speed 6 0.17 s and 0.63x;
// speed 8 0.11 s and 0.67x.
const (
	AVIFSpeedSmall  = 5
	AVIFSpeed       = 8
	AVIFSmallPixels = 256 * 256
)

// avifSpeed is the speed for a variant of w×h pixels.
func avifSpeed(w, h int) int {
	if w*h <= AVIFSmallPixels {
		return AVIFSpeedSmall
	}
	return AVIFSpeed
}

// SiblingKey is where the sibling of format of a preset's variant lives in
// NAME-resized: a directory named PRESET.FORMAT next to PRESET, the key
// unchanged ("150x.avif/photos/cat.jpg"). Preset names may not end in a
// sibling format's extension, so the directories never collide.
func SiblingKey(preset, format, key string) string {
	return preset + "." + format + "/" + key
}

// webpQuality and avifQuality map a preset's JPEG-scale quality to the
// encoders' own scales so that a sibling looks about as good as the primary
// JPEG: at q85 on the 17 corpus JPEGs at 150x, imgate's JPEG has a mean
// luma SSIM of 0.9796; WebP at q−2 0.9797 for 0.74x the JPEG's bytes, AVIF
// at q−24 (speed 5) 0.9793 for 0.59x (bench/bytes.sh, WebP decoded by dwebp;
// libavif maps neighbouring qualities to one quantizer, q−23 is 0.9812 for
// 0.62x).
func webpQuality(q int) int { return min(max(q-2, 1), 100) }
func avifQuality(q int) int { return min(max(q-24, 1), 100) }

// normalizeFormats lower-cases and de-duplicates a preset's formats.
func normalizeFormats(fs []string) []string {
	var out []string
	for _, f := range fs {
		f = strings.ToLower(strings.TrimSpace(f))
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// validateFormats reports the problems of a normalized preset's formats.
func validateFormats(p Preset) []string {
	var problems []string
	for _, f := range p.Formats {
		if !slices.Contains(SiblingFormats, f) {
			problems = append(problems, fmt.Sprintf("formats: %q: want avif or webp", f))
		}
	}
	for _, f := range SiblingFormats {
		if strings.HasSuffix(strings.ToLower(p.Name), "."+f) {
			problems = append(problems, fmt.Sprintf("name %q ends in .%s (reserved for sibling directories)", p.Name, f))
		}
	}
	return problems
}

// WarmSiblingEncoders compiles the WebP and AVIF encoders now (they are
// WebAssembly modules compiled on first use: about 2 s and 7 s of CPU).
func WarmSiblingEncoders() {
	webp.Init()
	avif.InitEncoder()
}

// encodeSibling writes m as WebP or AVIF (alpha kept).
func encodeSibling(m *image.RGBA, format string, quality int) ([]byte, error) {
	var buf bytes.Buffer
	switch format {
	case "webp":
		if err := webp.Encode(&buf, m, webp.Options{Quality: webpQuality(quality), Method: 4}); err != nil {
			return nil, fmt.Errorf("webp: %w", err)
		}
	case "avif":
		sub := image.YCbCrSubsampleRatio420
		if m.Rect.Dx() <= 64 && m.Rect.Dy() <= 64 {
			sub = image.YCbCrSubsampleRatio444
		}
		speed := avifSpeed(m.Rect.Dx(), m.Rect.Dy())
		err := avif.Encode(&buf, m, avif.Options{Quality: avifQuality(quality), QualityAlpha: avifQuality(quality), Speed: speed, ChromaSubsampling: sub})
		if err != nil {
			return nil, fmt.Errorf("avif: %w", err)
		}
	default:
		return nil, fmt.Errorf("cannot encode format %q", format)
	}
	return buf.Bytes(), nil
}

// EncodeSibling encodes the pixels of a variant Resize returned (its
// Pixels, set when the preset has Formats) as a sibling in format.
func EncodeSibling(v Variant, format string, p Preset) (Variant, error) {
	if v.Animated {
		return encodeAnimatedSibling(v, format, p)
	}
	if v.Pixels == nil {
		return Variant{}, newErr(KindUnsupported, nil, "variant %s has no pixels to encode a %s sibling from", v.Preset, format)
	}
	p = p.Normalize()
	b, err := encodeSibling(v.Pixels, format, p.Quality)
	if err != nil {
		return Variant{}, newErr(KindUnsupported, err, "cannot encode %s", format)
	}
	return Variant{
		Preset: v.Preset, Width: v.Width, Height: v.Height,
		Format: format, ContentType: ContentType(format), Data: b,
	}, nil
}

// SiblingPossible reports whether the variant can have a sibling in
// format: animations get an animated WebP, never an AVIF (a still AVIF
// would stop the animation for every browser that accepts AVIF).
func (v Variant) SiblingPossible(format string) bool {
	return SiblingPossible(v.Animated, format)
}

// SiblingPossible is the rule Variant.SiblingPossible applies, for a
// stored variant known only by whether it is animated.
func SiblingPossible(animated bool, format string) bool {
	return !animated || format == "webp"
}

func encodeAnimatedSibling(v Variant, format string, p Preset) (Variant, error) {
	if format != "webp" || v.Anim == nil {
		return Variant{}, newErr(KindUnsupported, nil, "animated variant %s gets no %s sibling", v.Preset, format)
	}
	b, err := encodeAnimatedWebP(v.Anim, p.Normalize().Quality)
	if err != nil {
		return Variant{}, newErr(KindUnsupported, err, "cannot encode an animated webp")
	}
	return Variant{
		Preset: v.Preset, Width: v.Width, Height: v.Height,
		Format: format, ContentType: ContentType(format), Data: b,
	}, nil
}

// Equal reports whether two presets are the same definition.
func (p Preset) Equal(q Preset) bool {
	return p.Name == q.Name && p.Geometry == q.Geometry && p.Format == q.Format &&
		p.Quality == q.Quality && p.Crop == q.Crop && p.Gravity == q.Gravity &&
		p.Background == q.Background && p.KeepMetadata == q.KeepMetadata &&
		slices.Equal(p.Formats, q.Formats) && (p.Animated == nil || *p.Animated) == (q.Animated == nil || *q.Animated)
}
