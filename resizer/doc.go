// Package resizer turns one uploaded image into its preset variants.
//
// The pipeline for one source (Resizer.Resize):
//
//  1. read at most Limits.MaxBytes, sniff the format from the content (never
//     the file name), read the header only (size, frames, JPEG sampling,
//     EXIF orientation) and refuse anything over a limit before a single pixel
//     is decoded: a 50000×50000 PNG header costs microseconds;
//  2. wait for room in the in-flight memory budget (a weighted semaphore
//     sized in estimated decoder bytes), so concurrent calls stay bounded;
//  3. decode once, straight into small intermediates, never at full size
//     when avoidable: JPEGs go through imgate's own DCT-domain decoder
//     (package resizer/jpegscale, adapted in jpegdecode.go) at 1/8, 1/4 or
//     1/2 scale (progressive AC scans are skipped entirely at 1/8), PNGs through a row-streaming decoder that
//     feeds every preset's box reducer (pngstream.go); GIFs, interlaced
//     PNGs, CMYK/RGB JPEGs and anything those decline use the standard
//     library's decoders, whose verdict also decides on corrupt files;
//  4. per preset, box-reduce by an integer factor (on a grid whose partial
//     blocks are split between both edges, see plan) to a premultiplied
//     RGBA intermediate still ≥ 2× the target, straight from the decoder's
//     planes (YCbCr, Gray, CMYK, NRGBA, Paletted, 16-bit, …);
//  5. apply the EXIF orientation (1–8, from JPEG APP1 or PNG eXIf) to each
//     small intermediate;
//  6. for each preset: bild's transform.Resize with the Lanczos filter to the
//     exact ImageMagick-compatible size, optional crop with gravity, alpha
//     composited on the background for JPEG output, encoded with Go's
//     encoders — which write no EXIF, GPS or other metadata. Grayscale
//     sources stay one-channel; a GIF is re-encoded on its own palette.
//
// Animated GIFs: the first frame is rendered (the frame count is checked
// against Limits.MaxFrames); animation is not kept.
//
// # Geometry
//
// Presets use ImageMagick geometry syntax and the sizes equal ImageMagick 6's
// -resize results (floor(x+0.5) rounding, minimum 1 px), with one deliberate
// difference: imgate never enlarges unless asked. A plain geometry ("150x",
// "50x50", "50x50^") behaves as if '>' were appended (only shrink). Enlarging
// happens only with '<' (only enlarge), a percentage ("200%") or '!' (exact
// size, which means exactly that size). As in ImageMagick, '^' with one side
// missing fills a square box ("150x^" = "150x150^").
//
// # Keys
//
// Callers store a variant at NAME-resized/PRESET/KEY with the original KEY
// unchanged, even when the preset changes the format (a PNG stored under
// photo.jpg keeps that name); Variant.ContentType says what it really is.
//
// # GOMAXPROCS
//
// bild's parallel package calls runtime.GOMAXPROCS(runtime.NumCPU()) when it
// is loaded, which overrides the GOMAXPROCS environment variable and the
// container-aware default. This package's init restores the setting: the
// value of the GOMAXPROCS environment variable when set, else the runtime
// default (runtime.SetDefaultGOMAXPROCS, which also re-enables automatic
// updates). Concurrency is then chosen by the caller (worker count).
package resizer
