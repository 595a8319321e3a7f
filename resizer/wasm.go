package resizer

import (
	"context"
	"runtime/debug"
)

// The WebAssembly decoders (libheif, libavif, libwebp's animation decoder,
// run by wazero) instantiate a module per decode whose linear memory holds
// the encoded file, the codec's frame buffers and the RGBA output, on top
// of the compiled module (compiled once per process). That memory is
// bounded apart from the Resizer's budget: one such decode (and its decoded
// image, which aliases the linear memory) at a time in the process
// (wasmSlot), and sources above the per-format pixel limits refused from
// the header, so it stays under wasmBytesPerPixel × the limit (measured
// 12 MP: AVIF ~840 MB, HEIF ~370 MB peak RSS). The budget holds what the
// Go side keeps besides (wasmCost).
var wasmSlot = make(chan struct{}, 1)

// MaxWASMBytes bounds the linear memory of one WebAssembly decode (and so
// the RSS it adds beyond the budget): a source whose estimate
// (wasmFixed + wasmBytesPerPixel × pixels) is larger is refused from the
// header. With the measured rates that is ~31 MP for AVIF and ~75 MP for
// HEIF (Limits.MaxPixels, 50 MP by default, comes first).
const MaxWASMBytes = 2 << 30

// MaxAnimPixels bounds canvas × frames of an animated WebP.
const MaxAnimPixels = 50_000_000

// wasmBytesPerPixel is the measured peak RSS of one WebAssembly decode per
// source pixel (12 MP: AVIF ~770-840 MB, HEIF ~320-370 MB; see
// bench/decode.sh); wasmFixed is the compiled module and runtime.
func wasmBytesPerPixel(h header) int64 {
	switch h.format {
	case "avif":
		return 66
	case "heif":
		return 28
	}
	return 10 // animated WebP: every composited frame in linear memory, then copied
}

const wasmFixed = 48 << 20

// minHEIFWidth: the WebAssembly libheif build lays out the chroma planes of
// 4:2:0 images up to 96 pixels wide with a stride its Go side does not
// expect (colour garbage, measured: 32, 64, 96 wide broken; 100, 128 and
// more correct), so narrower HEIFs are refused rather than rendered wrong.
const minHEIFWidth = 100

// wasmCost estimates what a WebAssembly decode holds in the Go heap, for
// the budget: the decoded pixels (read out of the linear memory) and the
// encoded source. The linear memory is bounded by wasmSlot and the pixel
// limits: wasmFixed + wasmBytesPerPixel × pixels.
func wasmCost(h header, encoded int) int64 {
	px := int64(h.width) * int64(h.height) * int64(max(1, h.frames))
	per := int64(4)
	if h.depth > 8 {
		per = 8
	}
	return per*px + int64(encoded)
}

// usesWASM reports whether decoding h runs a WebAssembly decoder.
func usesWASM(h header) bool {
	return isWASM(h.format) || h.format == "webp" && h.frames > 1
}

// acquireWASM takes the process's one WebAssembly slot when h is decoded
// by a WebAssembly decoder; release gives it back (once the decoded image,
// which aliases the module's memory, is no longer used).
func acquireWASM(ctx context.Context, h header) (release func(), err error) {
	if !usesWASM(h) {
		return func() {}, nil
	}
	select {
	case wasmSlot <- struct{}{}:
		return func() {
			// The module's linear memory (hundreds of MB for a photo) is
			// garbage now; collect it before the next decode can grow
			// another, so one decode's worth is what the process holds.
			debug.FreeOSMemory()
			<-wasmSlot
		}, nil
	case <-ctx.Done():
		return nil, stopped(ctx)
	}
}

// checkWASM refuses, from the header, sources whose WebAssembly decode would
// exceed the format's pixel limit.
func checkWASM(h header) error {
	if !usesWASM(h) {
		return nil
	}
	limit := (MaxWASMBytes - wasmFixed) / wasmBytesPerPixel(h)
	if h.format == "webp" {
		limit = min(limit, MaxAnimPixels)
	}
	if h.format == "heif" && h.width < minHEIFWidth {
		return newErr(KindUnsupported, nil, "unsupported heif: %d pixels wide, the decoder needs at least %d", h.width, minHEIFWidth)
	}
	px := int64(h.width) * int64(h.height) * int64(max(1, h.frames))
	if px > limit {
		return newErr(KindTooLarge, nil, "image too large: %s of %dx%d×%d frames is %.1f megapixels, the limit for this format is %.1f (refused before decoding)",
			h.format, h.width, h.height, max(1, h.frames), float64(px)/1e6, float64(limit)/1e6)
	}
	return nil
}
