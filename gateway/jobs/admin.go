package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/resizer"
)

var errNotFound = errors.New("not found")

// inputError is a 400 with a public message.
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var body adminapi.ErrorBody
	body.Error.Code, body.Error.Message = code, msg
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="imgate"`)
	}
	writeJSON(w, status, body)
}

// fail maps an internal error to a response; only public text reaches clients.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	var in *inputError
	var re *resizer.Error
	switch {
	case errors.As(err, &in):
		writeError(w, http.StatusBadRequest, "bad_request", in.msg)
	case errors.As(err, &re) && re.Kind == resizer.KindInvalidPreset:
		writeError(w, http.StatusBadRequest, "invalid_preset", re.Public())
	case errors.As(err, &re):
		writeError(w, http.StatusUnprocessableEntity, "bad_image", publicReason(err))
	case errors.Is(err, errNotFound), errors.Is(err, errJobNotFound), errors.Is(err, storage.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "not found")
	case errors.Is(err, errBackfillRunning):
		writeError(w, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, storage.ErrUnavailable):
		writeError(w, http.StatusServiceUnavailable, "unavailable", "storage backend unavailable")
	default:
		s.log.ErrorContext(r.Context(), "admin API", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
	}
}

// decodeBody reads a JSON body (at most 64 KiB, no unknown fields).
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &inputError{msg: "invalid JSON body: " + err.Error()}
	}
	return nil
}

func (s *Service) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/admin/jobs", s.handleListJobs)
	mux.HandleFunc("GET /v1/admin/jobs/{id}", s.handleGetJob)
	mux.HandleFunc("POST /v1/admin/jobs/{id}/retry", s.handleRetry)
	mux.HandleFunc("POST /v1/admin/jobs/{id}/cancel", s.handleCancel)
	mux.HandleFunc("GET /v1/admin/stats", s.handleStats)
	mux.HandleFunc("GET /v1/admin/presets", s.handleListPresets)
	mux.HandleFunc("POST /v1/admin/presets", s.handleCreatePreset)
	mux.HandleFunc("POST /v1/admin/presets/validate", s.handleValidatePreset)
	mux.HandleFunc("PUT /v1/admin/presets/{name}", s.handleUpdatePreset)
	mux.HandleFunc("DELETE /v1/admin/presets/{name}", s.handleDeletePreset)
	mux.HandleFunc("POST /v1/admin/preview", s.handlePreview)
	mux.HandleFunc("POST /v1/admin/backfill", s.handleStartBackfill)
	mux.HandleFunc("GET /v1/admin/backfill", s.handleGetBackfill)
	mux.HandleFunc("DELETE /v1/admin/backfill", s.handleCancelBackfill)
	mux.HandleFunc("POST /v1/admin/reconcile", s.handleReconcile)
	mux.HandleFunc("GET /v1/admin/events", s.handleEvents)
	mux.HandleFunc("/v1/admin/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such admin endpoint")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !checkBearer(r, s.cfg.AdminToken) {
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong bearer token")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

var publicStates = []string{adminapi.StateQueued, adminapi.StateRunning, adminapi.StateRetrying,
	adminapi.StateCompleted, adminapi.StateFailed, adminapi.StateCancelled}

func (s *Service) handleListJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := jobFilter{State: q.Get("state"), Prefix: q.Get("prefix"), Limit: 50}
	if f.State != "" && !slices.Contains(publicStates, f.State) {
		s.fail(w, r, &inputError{msg: fmt.Sprintf("state %q: want one of %s", f.State, strings.Join(publicStates, ", "))})
		return
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			s.fail(w, r, &inputError{msg: fmt.Sprintf("since %q: want an RFC 3339 time", v)})
			return
		}
		f.Since = t
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			s.fail(w, r, &inputError{msg: fmt.Sprintf("limit %q: want 1..500", v)})
			return
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			s.fail(w, r, &inputError{msg: fmt.Sprintf("cursor %q is not valid", v)})
			return
		}
		f.Before = n
	}
	list, err := s.listJobs(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func pathID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, &inputError{msg: fmt.Sprintf("job id %q is not a positive integer", v)}
	}
	return id, nil
}

func (s *Service) handleGetJob(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	j, err := s.getJob(r.Context(), id, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, j)
}

func (s *Service) handleRetry(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	j, err := s.getJob(ctx, id, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if j.State != adminapi.StateFailed && j.State != adminapi.StateCancelled {
		writeError(w, http.StatusConflict, "conflict", fmt.Sprintf("job %d is %s; only failed or cancelled jobs can be retried", id, j.State))
		return
	}
	if err := s.retryJob(ctx, id); err != nil {
		if !errors.Is(err, rivertype.ErrNotFound) {
			s.fail(w, r, err)
			return
		}
		// River forgot the job (retention): enqueue it anew.
		info, err := s.cfg.Storage.Stat(ctx, j.Bucket, j.Key)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		res, err := s.enqueue(ctx, info, "retry", nil, 0)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		id = res.Job.ID
		s.ensureRecord(ctx, res.Job)
	} else if err := s.setState(ctx, id, adminapi.StateQueued, "retry"); err != nil {
		s.fail(w, r, err)
		return
	}
	j, err = s.getJob(ctx, id, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, j)
}

func (s *Service) handleCancel(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	j, err := s.getJob(ctx, id, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch j.State {
	case adminapi.StateCompleted, adminapi.StateFailed, adminapi.StateCancelled:
		writeError(w, http.StatusConflict, "conflict", fmt.Sprintf("job %d is already %s", id, j.State))
		return
	}
	if _, err := s.queue.JobCancel(ctx, id); err != nil && !errors.Is(err, rivertype.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	if err := s.setState(ctx, id, adminapi.StateCancelled, ""); err != nil {
		s.fail(w, r, err)
		return
	}
	j, err = s.getJob(ctx, id, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, j)
}

func (s *Service) handleListPresets(w http.ResponseWriter, r *http.Request) {
	set, err := s.presets.load(r.Context(), 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wireList(set))
}

func (s *Service) handleCreatePreset(w http.ResponseWriter, r *http.Request) {
	var p adminapi.Preset
	if err := decodeBody(r, &p); err != nil {
		s.fail(w, r, err)
		return
	}
	np := fromWire(p)
	if err := np.Validate(); err != nil {
		s.fail(w, r, err)
		return
	}
	np = np.Normalize()
	set, err := s.presets.update(r.Context(), func(cur []resizer.Preset) ([]resizer.Preset, error) {
		for _, c := range cur {
			if c.Name == np.Name {
				return nil, errPresetExists
			}
		}
		return append(cur, np), nil
	})
	if errors.Is(err, errPresetExists) {
		writeError(w, http.StatusConflict, "conflict", fmt.Sprintf("preset %q already exists", np.Name))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "preset created", "preset", np.Name, "version", set.Version)
	writeJSON(w, http.StatusCreated, wireList(set))
}

var errPresetExists = errors.New("preset exists")

func (s *Service) handleUpdatePreset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var p adminapi.Preset
	if err := decodeBody(r, &p); err != nil {
		s.fail(w, r, err)
		return
	}
	if p.Name == "" {
		p.Name = name
	}
	if p.Name != name {
		s.fail(w, r, &inputError{msg: fmt.Sprintf("body name %q differs from path name %q (rename = delete + create)", p.Name, name)})
		return
	}
	np := fromWire(p)
	if err := np.Validate(); err != nil {
		s.fail(w, r, err)
		return
	}
	np = np.Normalize()
	set, err := s.presets.update(r.Context(), func(cur []resizer.Preset) ([]resizer.Preset, error) {
		i := slices.IndexFunc(cur, func(c resizer.Preset) bool { return c.Name == name })
		if i < 0 {
			return nil, errNotFound
		}
		cur[i] = np
		return cur, nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "preset updated", "preset", name, "version", set.Version)
	writeJSON(w, http.StatusOK, wireList(set))
}

func (s *Service) handleDeletePreset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	del := false
	if v := r.URL.Query().Get("delete_variants"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.fail(w, r, &inputError{msg: fmt.Sprintf("delete_variants %q: want true or false", v)})
			return
		}
		del = b
	}
	set, err := s.presets.update(r.Context(), func(cur []resizer.Preset) ([]resizer.Preset, error) {
		i := slices.IndexFunc(cur, func(c resizer.Preset) bool { return c.Name == name })
		if i < 0 {
			return nil, errNotFound
		}
		if len(cur) == 1 {
			return nil, &inputError{msg: "cannot delete the last preset"}
		}
		return slices.Delete(cur, i, i+1), nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "preset deleted", "preset", name, "version", set.Version, "delete_variants", del)
	if del {
		s.background(func(ctx context.Context) {
			if err := s.deletePresetVariants(ctx, name); err != nil {
				s.log.WarnContext(ctx, "delete variants of preset", "preset", name, "err", err)
			}
		})
	}
	writeJSON(w, http.StatusOK, wireList(set))
}

// background runs fn detached from the request, stopped by Stop.
func (s *Service) background(fn func(ctx context.Context)) {
	s.mu.Lock()
	parent := s.runCtx
	s.mu.Unlock()
	if parent == nil {
		parent = context.Background()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(parent, 30*time.Minute)
		defer cancel()
		fn(ctx)
	}()
}

func (s *Service) handleValidatePreset(w http.ResponseWriter, r *http.Request) {
	var p adminapi.Preset
	if err := decodeBody(r, &p); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := fromWire(p).Validate(); err != nil {
		var re *resizer.Error
		msg := "invalid preset"
		if errors.As(err, &re) {
			msg = re.Public()
		}
		writeJSON(w, http.StatusOK, adminapi.Validation{Valid: false, Error: msg})
		return
	}
	writeJSON(w, http.StatusOK, adminapi.Validation{Valid: true})
}

func (s *Service) handleStartBackfill(w http.ResponseWriter, r *http.Request) {
	var req adminapi.BackfillRequest
	if r.ContentLength != 0 {
		if err := decodeBody(r, &req); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	b, err := s.startBackfill(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, b)
}

func (s *Service) handleGetBackfill(w http.ResponseWriter, r *http.Request) {
	b, err := s.backfill(r.Context(), 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

func (s *Service) handleCancelBackfill(w http.ResponseWriter, r *http.Request) {
	b, err := s.cancelBackfill(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

func (s *Service) handleReconcile(w http.ResponseWriter, r *http.Request) {
	res, err := s.Reconcile(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
