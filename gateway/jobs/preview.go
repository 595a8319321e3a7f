package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // decoders for preview
	_ "image/jpeg"
	"image/png"
	"net/http"
	"strconv"
	"time"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/resizer"
)

func (s *Service) handlePreview(w http.ResponseWriter, r *http.Request) {
	var req adminapi.PreviewRequest
	if err := decodeBody(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	p := fromWire(req.Preset)
	if err := p.Validate(); err != nil {
		s.fail(w, r, err)
		return
	}
	p = p.Normalize()
	ctx := r.Context()
	key := req.Key
	if key == "" {
		newest, err := s.newestOriginal(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		key = newest
	} else if err := storage.ValidateKey(key); err != nil {
		s.fail(w, r, &inputError{msg: err.Error()})
		return
	}
	rc, _, err := s.cfg.Storage.Get(ctx, s.original, key, storage.GetOptions{Length: -1})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer rc.Close()
	_, variants, err := s.cfg.Resizer.Resize(ctx, rc, []resizer.Preset{p})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(variants) == 0 {
		s.fail(w, r, errors.New("resizer returned no variant"))
		return
	}
	v := variants[0]
	out := v.Data
	if v.ContentType != "image/png" {
		img, _, err := image.Decode(bytes.NewReader(v.Data))
		if err != nil {
			s.fail(w, r, fmt.Errorf("decode preview: %w", err))
			return
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			s.fail(w, r, fmt.Errorf("encode preview: %w", err))
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

// newestOriginal returns the most recently modified original (scanning at
// most 10000 objects).
func (s *Service) newestOriginal(ctx context.Context) (string, error) {
	var (
		best  string
		bestT time.Time
		n     int
	)
	for obj, err := range s.cfg.Storage.List(ctx, s.original, storage.ListOptions{}) {
		if err != nil {
			return "", fmt.Errorf("jobs: list originals: %w", err)
		}
		if best == "" || obj.LastModified.After(bestT) {
			best, bestT = obj.Key, obj.LastModified
		}
		if n++; n >= 10000 {
			break
		}
	}
	if best == "" {
		return "", &inputError{msg: "no original to preview: upload an image first or name a key"}
	}
	return best, nil
}
