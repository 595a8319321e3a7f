package resizer

import "encoding/binary"

// inputFormat is one decodable format: its name, the content types that
// name it, and whether its decoder runs as WebAssembly (own memory budget).
type inputFormat struct {
	name  string
	types []string // the first is what SniffContentType answers
	wasm  bool
}

// inputFormats is the one list of what Resize decodes; the upload allow-list
// (s3api, /v1/uploads, POST policies) is derived from it.
var inputFormats = []inputFormat{
	{name: "jpeg", types: []string{"image/jpeg"}},
	{name: "png", types: []string{"image/png"}},
	{name: "gif", types: []string{"image/gif"}},
	{name: "webp", types: []string{"image/webp"}},
	{name: "heif", types: []string{"image/heic", "image/heif"}, wasm: true},
	{name: "avif", types: []string{"image/avif"}, wasm: true},
}

// ContentTypes returns the content types Resize can decode, in a stable
// order: image/jpeg, image/png, image/gif, image/webp, image/heic,
// image/heif, image/avif.
func ContentTypes() []string {
	var out []string
	for _, f := range inputFormats {
		out = append(out, f.types...)
	}
	return out
}

// Decodable reports whether contentType names a format Resize decodes.
func Decodable(contentType string) bool {
	for _, f := range inputFormats {
		for _, t := range f.types {
			if t == contentType {
				return true
			}
		}
	}
	return false
}

// SniffContentType names the image content type of a file's first bytes
// (512 are plenty), or "" when they are no image format this package knows.
// Formats it knows but cannot decode are named too (image/tiff, …), so a
// refusal can say what was sent.
func SniffContentType(head []byte) string {
	format, other := sniff(head)
	if format == "heif" && !hevcBrand(head) {
		return "image/heif"
	}
	for _, f := range inputFormats {
		if f.name == format {
			return f.types[0]
		}
	}
	switch other {
	case "bmp":
		return "image/bmp"
	case "tiff":
		return "image/tiff"
	case "jpeg xl":
		return "image/jxl"
	case "jpeg 2000":
		return "image/jp2"
	case "psd":
		return "image/vnd.adobe.photoshop"
	case "ico":
		return "image/x-icon"
	}
	return ""
}

// ftypBrands returns the major and compatible brands of an ISOBMFF file's
// leading ftyp box (nil when there is none).
func ftypBrands(b []byte) []string {
	if len(b) < 12 || string(b[4:8]) != "ftyp" {
		return nil
	}
	n := int(binary.BigEndian.Uint32(b))
	if n > len(b) {
		n = len(b)
	}
	brands := []string{string(b[8:12])}
	for p := 16; p+4 <= n; p += 4 {
		brands = append(brands, string(b[p:p+4]))
	}
	return brands
}

// isobmffFormat names the image format of an ISOBMFF file from its brands:
// "avif" for AV1 images, "heif" for HEVC or generic HEIF images.
func isobmffFormat(b []byte) string {
	brands := ftypBrands(b)
	has := func(names ...string) bool {
		for _, x := range brands {
			for _, n := range names {
				if x == n {
					return true
				}
			}
		}
		return false
	}
	switch {
	case has("avif", "avis"):
		return "avif"
	case has("heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1"):
		return "heif"
	}
	return ""
}

// hevcBrand reports whether a HEIF file names HEVC coding in its brands
// (image/heic rather than image/heif).
func hevcBrand(b []byte) bool {
	for _, x := range ftypBrands(b) {
		switch x {
		case "heic", "heix", "heim", "heis", "hevc", "hevx":
			return true
		}
	}
	return false
}

// isWASM reports whether format is decoded by a WebAssembly decoder.
func isWASM(format string) bool {
	for _, f := range inputFormats {
		if f.name == format {
			return f.wasm
		}
	}
	return false
}

// defaultOutput is the variant format of a preset that leaves it open: the
// input's format when variants can be written in it; else JPEG, or PNG for
// a WebP with alpha. HEIF and AVIF originals give JPEG variants (what every
// browser displays).
func defaultOutput(h header) string {
	switch h.format {
	case "heif", "avif":
		return "jpeg"
	}
	if isAnimated(h) {
		return "gif" // the one animated format variants are written in
	}
	if f, ok := formatAliases[h.format]; ok && f == h.format {
		return h.format
	}
	if h.alpha {
		return "png"
	}
	return "jpeg"
}
