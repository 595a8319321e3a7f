package webhooks

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/auth"
	"github.com/imgate/imgate/gateway/jobs"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/uploadtoken"
	"github.com/imgate/imgate/internal/httpjson"
)

// HTTPConfig configures the HTTP routes.
type HTTPConfig struct {
	Bucket     string   // NAME
	APIKeys    []string // full-access bearer keys
	Auth       *auth.Store
	Tokens     *uploadtoken.Signer
	AdminToken string
	Jobs       *jobs.Service
}

// MaxWait bounds ?wait= of GET /v1/images/{key}.
const MaxWait = 60 * time.Second

type httpHandler struct {
	s   *Service
	cfg HTTPConfig
	mux *http.ServeMux
}

// Handler serves GET /v1/images/{key} (API key, or an upload token covering
// the key) and GET /v1/admin/webhooks (admin token: deliveries failing).
func (s *Service) Handler(cfg HTTPConfig) http.Handler {
	h := &httpHandler{s: s, cfg: cfg, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /v1/images/{key...}", h.image)
	h.mux.HandleFunc("GET /v1/admin/webhooks", h.failing)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, "not_found", "No such endpoint.")
	})
	return h.mux
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	var body adminapi.ErrorBody
	body.Error.Code, body.Error.Message = code, msg
	httpjson.Write(w, status, body)
}

// allowed reports whether the bearer credential may read key's document.
func (h *httpHandler) allowed(r *http.Request, key string) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return false
	}
	for _, k := range h.cfg.APIKeys {
		if k != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(k)) == 1 {
			return true
		}
	}
	if strings.HasPrefix(tok, "iut1.") && h.cfg.Tokens != nil {
		c, err := h.cfg.Tokens.Parse(tok, time.Now())
		return err == nil && c.Covers(key)
	}
	if h.cfg.Auth != nil {
		id, err := h.cfg.Auth.AuthenticateAPIKey(r.Context(), tok)
		return err == nil && strings.HasPrefix(key, id.Prefix)
	}
	return false
}

// image answers the document of the original's current ETag: 200 when its
// outcome is recorded, else 202 {"status": "pending"}; ?wait=10s holds the
// request until the outcome is there (at most MaxWait).
func (h *httpHandler) image(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if !h.allowed(r, key) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="imgate"`)
		writeErr(w, http.StatusUnauthorized, "unauthorized", "An API key or an upload token covering this key is required: Authorization: Bearer <key or token>.")
		return
	}
	var wait time.Duration
	if v := r.URL.Query().Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > MaxWait {
			writeErr(w, http.StatusBadRequest, "invalid_request", "wait must be a duration up to 60s, e.g. wait=10s.")
			return
		}
		wait = d
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	w.Header().Set("Cache-Control", "no-store")
	bucket := h.cfg.Bucket + "-original"
	for {
		img, status, err := h.current(r.Context(), bucket, key)
		switch {
		case err != nil:
			h.s.cfg.Logger.ErrorContext(r.Context(), "images: lookup", "key", key, "err", err)
			writeErr(w, http.StatusInternalServerError, "internal_error", "Internal error; retry later.")
			return
		case status == http.StatusNotFound:
			writeErr(w, http.StatusNotFound, "not_found", "No such original.")
			return
		case status == http.StatusOK:
			httpjson.Write(w, http.StatusOK, img)
			return
		}
		select {
		case <-ctx.Done():
			httpjson.Write(w, http.StatusAccepted, img)
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// current returns the document of the original as it is now and the status to answer.
func (h *httpHandler) current(ctx context.Context, bucket, key string) (Image, int, error) {
	info, err := h.s.cfg.Storage.Stat(ctx, bucket, key)
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrInvalidKey) {
		return Image{}, http.StatusNotFound, nil
	}
	if err != nil {
		return Image{}, 0, err
	}
	etag := jobs.NormETag(info.ETag)
	img, err := h.s.Lookup(ctx, bucket, key)
	if err != nil && !errors.Is(err, ErrNoDocument) {
		return Image{}, 0, err
	}
	if err == nil && jobs.NormETag(img.ETag) == etag {
		return img, http.StatusOK, nil
	}
	return Image{Bucket: bucket, Key: key, ETag: etag, Status: "pending"}, http.StatusAccepted, nil
}

// failing lists the deliveries that failed at least once and have not
// succeeded since (retrying, or given up), newest first.
func (h *httpHandler) failing(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if h.cfg.AdminToken == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(h.cfg.AdminToken)) != 1 {
		writeErr(w, http.StatusUnauthorized, "unauthorized", "The admin token is required.")
		return
	}
	list, err := h.s.Failing(r.Context(), h.cfg.Jobs)
	if err != nil {
		h.s.cfg.Logger.ErrorContext(r.Context(), "webhooks: list failing", "err", err)
		writeErr(w, http.StatusInternalServerError, "internal_error", "Internal error; retry later.")
		return
	}
	httpjson.Write(w, http.StatusOK, list)
}

// Failing lists deliveries with at least one failed attempt that are not
// delivered: retrying, or given up (discarded, cancelled).
func (s *Service) Failing(ctx context.Context, js *jobs.Service) (adminapi.WebhookDeliveries, error) {
	out := adminapi.WebhookDeliveries{URLs: len(s.cfg.URLs), Deliveries: []adminapi.WebhookDelivery{}}
	rows, err := js.RiverJobs(ctx, kind, 100, rivertype.JobStateRetryable, rivertype.JobStateDiscarded,
		rivertype.JobStateCancelled, rivertype.JobStateAvailable, rivertype.JobStateRunning)
	if err != nil {
		return out, err
	}
	for _, row := range rows {
		if len(row.Errors) == 0 {
			continue
		}
		var a deliveryArgs
		_ = json.Unmarshal(row.EncodedArgs, &a)
		last := row.Errors[len(row.Errors)-1]
		d := adminapi.WebhookDelivery{ID: a.ID, URL: a.URL, Type: a.Type, Key: a.Key, State: string(row.State),
			Attempts: row.Attempt, MaxAttempts: row.MaxAttempts, LastError: last.Error, LastAt: last.At}
		if row.State == rivertype.JobStateRetryable || row.State == rivertype.JobStateAvailable {
			d.NextAt = &row.ScheduledAt
		}
		out.Deliveries = append(out.Deliveries, d)
	}
	return out, nil
}
