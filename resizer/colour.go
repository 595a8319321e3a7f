package resizer

import (
	"bytes"
	"compress/zlib"
	"image"
	"io"

	"github.com/imgate/imgate/resizer/colour"
)

// maxICC bounds an embedded ICC profile (real ones are a few KB; a hostile
// file must not make the header walk inflate megabytes).
const maxICC = 1 << 20

// appendICCChunk adds one APP2 ICC_PROFILE segment (sequence number, count,
// data) to the profile; segments arrive in order in practice, a
// misnumbered one drops the profile.
func appendICCChunk(icc, seg []byte) []byte {
	if len(seg) < 2 || seg[0] == 0 || len(icc)+len(seg) > maxICC {
		return nil
	}
	if seg[0] == 1 {
		icc = nil
	} else if icc == nil {
		return nil
	}
	return append(icc, seg[2:]...)
}

// pngICC inflates an iCCP chunk (name, NUL, method 0, zlib data).
func pngICC(d []byte) []byte {
	i := bytes.IndexByte(d, 0)
	if i < 0 || i+2 > len(d) || d[i+1] != 0 {
		return nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(d[i+2:]))
	if err != nil {
		return nil
	}
	defer zr.Close()
	p, err := io.ReadAll(io.LimitReader(zr, maxICC+1))
	if err != nil || len(p) > maxICC {
		return nil
	}
	return p
}

// sourceColour returns the transform of the source's colour description to
// sRGB: its ICC profile (RGB matrix/TRC), else HEIF/AVIF nclx; nil when the
// source is sRGB already or cannot be converted (grey and CMYK profiles,
// lookup-table profiles, HDR transfers: the pixels are kept as they are).
func sourceColour(h header) *colour.Transform {
	var t *colour.Transform
	var err error
	switch {
	case h.icc != nil:
		t, err = colour.FromICC(h.icc)
	case h.nclx != nil:
		t, err = colour.FromNCLX(h.nclx.primaries, h.nclx.transfer)
	default:
		return nil
	}
	if err != nil || t.Identity() {
		return nil
	}
	return t
}

// convertColour converts each distinct intermediate to sRGB in place.
func convertColour(h header, inters []*image.RGBA, gray bool) {
	if gray {
		return
	}
	t := sourceColour(h)
	if t == nil {
		return
	}
	done := map[*image.RGBA]bool{}
	for _, m := range inters {
		if !done[m] {
			done[m] = true
			t.ApplyRGBA(m.Pix)
		}
	}
}
