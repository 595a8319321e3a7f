package jobsapi

import (
	"bytes"
	"fmt"
	"image"
	_ "image/gif" // decoders for preview
	_ "image/jpeg"
	"image/png"
	"net/http"
	"strconv"

	"github.com/imgate/imgate/gateway/adminapi"
)

// preview answers a preset applied to a sample original as PNG (what the
// dashboard can show whatever the preset's format).
func (a *API) preview(w http.ResponseWriter, r *http.Request) {
	var req adminapi.PreviewRequest
	if err := decodeBody(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	v, key, err := a.jobs.Preview(r.Context(), fromWire(req.Preset), req.Key)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := v.Data
	if v.ContentType != "image/png" {
		img, _, err := image.Decode(bytes.NewReader(v.Data))
		if err != nil {
			a.fail(w, r, fmt.Errorf("decode preview: %w", err))
			return
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			a.fail(w, r, fmt.Errorf("encode preview: %w", err))
			return
		}
		out = buf.Bytes()
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Imgate-Preview-Key", key)
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	_, _ = w.Write(out)
}
