// Package jobsapi is the HTTP surface of the resize jobs: the admin API
// (/v1/admin/…, see package adminapi for its endpoints and wire types), its
// Server-Sent Events stream, and the intake of storage event notifications
// (POST /v1/events/s3, MinIO's webhook). Handlers only authenticate, decode
// the request, call the exported methods of jobs.Service or presets.Store
// and encode the answer; the rules live in those packages.
package jobsapi

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/jobs"
	"github.com/imgate/imgate/gateway/presets"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/internal/httpjson"
	"github.com/imgate/imgate/resizer"
)

// Config configures the HTTP surface.
type Config struct {
	Jobs        *jobs.Service
	AdminToken  string // bearer token of /v1/admin/…
	EventsToken string // bearer token of /v1/events/s3
	Logger      *slog.Logger
}

// API serves the admin API and the event intake.
type API struct {
	jobs    *jobs.Service
	presets *presets.Store
	cfg     Config
	log     *slog.Logger
}

// New returns the HTTP surface of cfg.Jobs.
func New(cfg Config) *API {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &API{jobs: cfg.Jobs, presets: cfg.Jobs.Presets(), cfg: cfg, log: log.With("component", "jobsapi")}
}

// Admin serves the admin API (mount at /v1/admin/; it matches full paths).
func (a *API) Admin() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/admin/jobs", a.listJobs)
	mux.HandleFunc("GET /v1/admin/jobs/{id}", a.getJob)
	mux.HandleFunc("POST /v1/admin/jobs/{id}/retry", a.retryJob)
	mux.HandleFunc("POST /v1/admin/jobs/{id}/cancel", a.cancelJob)
	mux.HandleFunc("GET /v1/admin/stats", a.stats)
	mux.HandleFunc("GET /v1/admin/presets", a.listPresets)
	mux.HandleFunc("POST /v1/admin/presets", a.createPreset)
	mux.HandleFunc("POST /v1/admin/presets/validate", a.validatePreset)
	mux.HandleFunc("PUT /v1/admin/presets/{name}", a.updatePreset)
	mux.HandleFunc("DELETE /v1/admin/presets/{name}", a.deletePreset)
	mux.HandleFunc("POST /v1/admin/preview", a.preview)
	mux.HandleFunc("POST /v1/admin/backfill", a.startBackfill)
	mux.HandleFunc("GET /v1/admin/backfill", a.getBackfill)
	mux.HandleFunc("DELETE /v1/admin/backfill", a.cancelBackfill)
	mux.HandleFunc("POST /v1/admin/reconcile", a.reconcile)
	mux.HandleFunc("GET /v1/admin/events", a.events)
	mux.HandleFunc("/v1/admin/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such admin endpoint")
	})
	return bearer(a.cfg.AdminToken, mux)
}

// Events serves POST /v1/events/s3 (S3 event notifications).
func (a *API) Events() http.Handler {
	return bearer(a.cfg.EventsToken, http.HandlerFunc(a.s3Events))
}

// bearer lets through requests carrying "Authorization: Bearer token".
func bearer(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !checkBearer(r, token) {
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong bearer token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkBearer reports whether the request carries "Authorization: Bearer token".
func checkBearer(r *http.Request, token string) bool {
	if token == "" {
		return false
	}
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	got := strings.TrimSpace(h[len(prefix):])
	return subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

// badRequest is a 400 with a public message.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var body adminapi.ErrorBody
	body.Error.Code, body.Error.Message = code, msg
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="imgate"`)
	}
	httpjson.Write(w, status, body)
}

// fail maps an error to a response; only public text reaches clients.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		bad      *badRequest
		invalid  *jobs.InvalidError
		rule     *presets.RuleError
		conflict *jobs.ConflictError
		exists   *presets.ExistsError
		re       *resizer.Error
	)
	switch {
	case errors.As(err, &bad):
		writeError(w, http.StatusBadRequest, "bad_request", bad.msg)
	case errors.As(err, &invalid):
		writeError(w, http.StatusBadRequest, "bad_request", invalid.Msg)
	case errors.As(err, &rule):
		writeError(w, http.StatusBadRequest, "bad_request", rule.Msg)
	case errors.As(err, &re) && re.Kind == resizer.KindInvalidPreset:
		writeError(w, http.StatusBadRequest, "invalid_preset", re.Public())
	case errors.As(err, &re):
		writeError(w, http.StatusUnprocessableEntity, "bad_image", jobs.PublicReason(err))
	case errors.As(err, &exists):
		writeError(w, http.StatusConflict, "conflict", exists.Error())
	case errors.As(err, &conflict):
		writeError(w, http.StatusConflict, "conflict", conflict.Msg)
	case errors.Is(err, jobs.ErrNotFound), errors.Is(err, presets.ErrNotFound), errors.Is(err, storage.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "not found")
	case errors.Is(err, jobs.ErrBackfillRunning):
		writeError(w, http.StatusConflict, "conflict", jobs.ErrBackfillRunning.Error())
	case errors.Is(err, storage.ErrUnavailable):
		writeError(w, http.StatusServiceUnavailable, "unavailable", "storage backend unavailable")
	default:
		a.log.ErrorContext(r.Context(), "admin API", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
	}
}

// decodeBody reads a JSON body (at most 64 KiB, no unknown fields).
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &badRequest{msg: "invalid JSON body: " + err.Error()}
	}
	return nil
}
