package s3api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/resizer"
)

// variantPath splits a NAME-resized key into its preset and the original's
// key; ok is false for anything that is not a primary variant's key (a
// sibling directory "150x.avif/…" is served as it is, without negotiation).
func (h *handler) variantPath(bucket, key string) (preset, orig string, ok bool) {
	if bucket != h.resized {
		return "", "", false
	}
	preset, orig, ok = strings.Cut(key, "/")
	if !ok || preset == "" || orig == "" {
		return "", "", false
	}
	for _, f := range resizer.SiblingFormats {
		if strings.HasSuffix(preset, "."+f) {
			return "", "", false
		}
	}
	return preset, orig, true
}

// accepts reports whether an Accept header names mediaType explicitly with
// a non-zero quality. Wildcards do not count: a client that sends only
// "*/*" or "image/*" gets the primary, which every client decodes.
func accepts(accept, mediaType string) bool {
	for _, part := range strings.Split(accept, ",") {
		fields := strings.Split(part, ";")
		if !strings.EqualFold(strings.TrimSpace(fields[0]), mediaType) {
			continue
		}
		q := 1.0
		for _, p := range fields[1:] {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}

// negotiate picks the representation of a variant GET: the AVIF sibling if
// the client accepts image/avif and it is stored, else the WebP one, else
// the primary. It returns the chosen key and its info (or the primary's
// Stat error).
func (h *handler) negotiate(ctx context.Context, r *http.Request, preset, orig string) (string, storage.ObjectInfo, error) {
	accept := r.Header.Get("Accept")
	for _, f := range resizer.SiblingFormats {
		if !accepts(accept, resizer.ContentType(f)) {
			continue
		}
		key := resizer.SiblingKey(preset, f, orig)
		info, err := h.cfg.Storage.Stat(ctx, h.resized, key)
		if err == nil {
			return key, info, nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return "", storage.ObjectInfo{}, err
		}
	}
	key := preset + "/" + orig
	info, err := h.cfg.Storage.Stat(ctx, h.resized, key)
	return key, info, err
}

// anonymousVariantRead reports whether r may read without signing: the
// operator turned on PublicVariants, the bucket is NAME-resized and the
// request carries no signature at all (a signed request is verified as
// usual, so a bad signature still fails).
func (h *handler) anonymousVariantRead(r *http.Request, bucket string) bool {
	if !h.cfg.PublicVariants || bucket != h.resized {
		return false
	}
	q := r.URL.Query()
	return r.Header.Get("Authorization") == "" && q.Get("X-Amz-Signature") == "" && q.Get("X-Amz-Credential") == ""
}

// statForGet finds the object a GET or HEAD serves. For a variant key it
// negotiates by Accept (setting Vary: Accept) and, when the variant is
// missing, asks Config.RenderMissing to render it on the spot.
func (h *handler) statForGet(w http.ResponseWriter, r *http.Request, bucket, key string) (string, storage.ObjectInfo, error) {
	ctx := r.Context()
	preset, orig, ok := h.variantPath(bucket, key)
	if !ok {
		info, err := h.cfg.Storage.Stat(ctx, bucket, key)
		return key, info, err
	}
	w.Header().Add("Vary", "Accept")
	chosen, info, err := h.negotiate(ctx, r, preset, orig)
	if errors.Is(err, storage.ErrNotFound) && h.cfg.RenderMissing != nil {
		if rerr := h.cfg.RenderMissing(ctx, preset, orig); rerr != nil {
			if errors.Is(rerr, storage.ErrNotFound) {
				return key, info, err
			}
			return key, info, rerr
		}
		chosen, info, err = h.negotiate(ctx, r, preset, orig)
	}
	if err == nil && chosen == preset+"/"+orig && h.siblingPending(ctx, r, preset) {
		info.CacheControl = "no-cache"
	}
	return chosen, info, err
}

// siblingPending reports whether the client accepts a sibling format the
// preset has, which negotiate did not find stored: it is still being
// encoded (siblings follow the primaries), so the primary served instead is
// provisional and must be revalidated (cheaply, by its ETag) rather than
// cached for the stored Cache-Control's lifetime.
func (h *handler) siblingPending(ctx context.Context, r *http.Request, preset string) bool {
	if h.cfg.SiblingFormats == nil {
		return false
	}
	accept := r.Header.Get("Accept")
	for _, f := range h.cfg.SiblingFormats(ctx, preset) {
		if accepts(accept, resizer.ContentType(f)) {
			return true
		}
	}
	return false
}
