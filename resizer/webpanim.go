package resizer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"

	"github.com/gen2brain/webp"
)

// Animated WebP siblings. The WebP library imgate uses (libwebp as
// WebAssembly) encodes still images only, so each frame is encoded as a
// still and the frames are put into one animated file here, following the
// WebP container specification (RFC 9649 §2.7: VP8X with the animation
// flag, ANIM, one ANMF per frame holding the frame's ALPH and VP8/VP8L
// chunks). Every frame covers the whole canvas and is drawn without
// blending, so no disposal state carries between frames.

// Animation is an animated variant's frames before encoding, kept when the
// preset has a WebP sibling.
type Animation struct {
	Frames []*image.RGBA
	Delays []int // per frame, in 1/100 s (GIF's unit)
	Loop   int   // GIF's LoopCount: 0 forever, -1 once, n: n repeats after the first play
}

// maxWebPCanvas is the largest canvas side VP8X can describe (24 bits).
const maxWebPCanvas = 1 << 24

// encodeAnimatedWebP encodes a as an animated WebP at quality q.
func encodeAnimatedWebP(a *Animation, q int) ([]byte, error) {
	if len(a.Frames) == 0 || len(a.Delays) < len(a.Frames) {
		return nil, errors.New("webp animation: no frames or missing delays")
	}
	r := a.Frames[0].Rect
	if r.Dx() > maxWebPCanvas || r.Dy() > maxWebPCanvas {
		return nil, fmt.Errorf("webp animation: canvas %dx%d too large", r.Dx(), r.Dy())
	}
	var body bytes.Buffer
	alpha := false
	for i, f := range a.Frames {
		if f.Rect != r {
			return nil, fmt.Errorf("webp animation: frame %d is %v, the canvas %v", i, f.Rect, r)
		}
		var still bytes.Buffer
		if err := webp.Encode(&still, f, webp.Options{Quality: webpQuality(q), Method: 4}); err != nil {
			return nil, fmt.Errorf("webp animation: frame %d: %w", i, err)
		}
		data, hasAlpha, err := frameChunks(still.Bytes())
		if err != nil {
			return nil, fmt.Errorf("webp animation: frame %d: %w", i, err)
		}
		alpha = alpha || hasAlpha
		hdr := make([]byte, 16)
		put24(hdr[6:], uint32(r.Dx()-1))
		put24(hdr[9:], uint32(r.Dy()-1))
		put24(hdr[12:], uint32(webpDuration(a.Delays[i])))
		hdr[15] = 0x02 // do not blend; no disposal (every frame covers the canvas)
		writeChunk(&body, "ANMF", append(hdr, data...))
	}
	var vp8x [10]byte
	vp8x[0] = 0x02 // animation
	if alpha {
		vp8x[0] |= 0x10
	}
	put24(vp8x[4:], uint32(r.Dx()-1))
	put24(vp8x[7:], uint32(r.Dy()-1))
	var anim [6]byte // background colour 0 (transparent): viewers may ignore it
	binary.LittleEndian.PutUint16(anim[4:], webpLoop(a.Loop))

	var out bytes.Buffer
	out.WriteString("RIFF")
	out.Write([]byte{0, 0, 0, 0})
	out.WriteString("WEBP")
	writeChunk(&out, "VP8X", vp8x[:])
	writeChunk(&out, "ANIM", anim[:])
	out.Write(body.Bytes())
	b := out.Bytes()
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	return b, nil
}

// frameChunks returns the image chunks of a still WebP file (ALPH and
// VP8, or VP8L) as an ANMF frame carries them, and whether it has alpha.
func frameChunks(file []byte) ([]byte, bool, error) {
	if len(file) < 12 || string(file[:4]) != "RIFF" || string(file[8:12]) != "WEBP" {
		return nil, false, errors.New("encoder output is not a WebP file")
	}
	var out bytes.Buffer
	alpha, found := false, false
	for p := file[12:]; len(p) > 0; {
		if len(p) < 8 {
			return nil, false, errors.New("truncated chunk header in encoder output")
		}
		fourcc, n := string(p[:4]), int(binary.LittleEndian.Uint32(p[4:8]))
		end := 8 + n + n&1
		if n < 0 || end > len(p) {
			return nil, false, errors.New("truncated chunk in encoder output")
		}
		switch fourcc {
		case "ALPH":
			alpha = true
			out.Write(p[:end])
		case "VP8 ", "VP8L":
			found = true
			alpha = alpha || fourcc == "VP8L" && len(p) > 12 && p[12]&0x10 != 0 // VP8L header's alpha_is_used bit
			out.Write(p[:end])
		}
		p = p[end:]
	}
	if !found {
		return nil, false, errors.New("no image chunk in encoder output")
	}
	return out.Bytes(), alpha, nil
}

// webpDuration turns a GIF delay (1/100 s) into milliseconds; a zero
// delay plays as browsers play it in a GIF, 100 ms.
func webpDuration(gifDelay int) int {
	if gifDelay <= 0 {
		return 100
	}
	return min(gifDelay*10, 1<<24-1)
}

// webpLoop maps GIF's LoopCount to ANIM's loop count (0: forever, n: n plays).
func webpLoop(gifLoop int) uint16 {
	switch {
	case gifLoop == 0:
		return 0
	case gifLoop < 0:
		return 1
	}
	return uint16(min(gifLoop+1, 1<<16-1))
}

func writeChunk(w *bytes.Buffer, fourcc string, data []byte) {
	var hdr [8]byte
	copy(hdr[:], fourcc)
	binary.LittleEndian.PutUint32(hdr[4:], uint32(len(data)))
	w.Write(hdr[:])
	w.Write(data)
	if len(data)&1 == 1 {
		w.WriteByte(0)
	}
}

func put24(b []byte, v uint32) {
	b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16)
}
