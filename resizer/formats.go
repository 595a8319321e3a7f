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

// AVIFSpeed is libavif's speed setting for AVIF siblings (0 slowest .. 10
// fastest). At 8, the AVIF siblings of the three classic presets of a
// 13 MP photo take 120–150 ms in the WASM encoder (the primaries 60–100 ms,
// WebP 30–40 ms): a job stays well under a second once the encoders are
// compiled. Slower settings buy a few per cent of bytes for several times
// the time.
const AVIFSpeed = 8

// SiblingKey is where the sibling of format of a preset's variant lives in
// NAME-resized: a directory named PRESET.FORMAT next to PRESET, the key
// unchanged ("150x.avif/photos/cat.jpg"). Preset names may not end in a
// sibling format's extension, so the directories never collide.
func SiblingKey(preset, format, key string) string {
	return preset + "." + format + "/" + key
}

// webpQuality and avifQuality map a preset's JPEG-scale quality to the
// encoders' own scales. AVIF: q−17 gives about the luma SSIM of imgate's
// JPEG at the same q (bench/bytes.sh, corpus at 150x). WebP: the same number,
// as image CDNs do; libwebp needs more bytes than the JPEG to reach its
// SSIM on small thumbnails, and a sibling larger than the primary would
// defeat its purpose (README, Performance).
func webpQuality(q int) int { return min(max(q, 1), 100) }
func avifQuality(q int) int { return min(max(q-17, 1), 100) }

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
		err := avif.Encode(&buf, m, avif.Options{Quality: avifQuality(quality), QualityAlpha: avifQuality(quality), Speed: AVIFSpeed, ChromaSubsampling: sub})
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
