package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // decoders for preview
	_ "image/jpeg"
	"image/png"
	"io"
	"net/http"
	"slices"
	"sort"
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

func (s *Service) handleStats(w http.ResponseWriter, r *http.Request) {
	st, err := s.stats(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// stats summarises the queue from the job records (all nodes).
func (s *Service) stats(ctx context.Context) (adminapi.Stats, error) {
	st := adminapi.Stats{Counts: map[string]int64{}, PresetTiming: map[string]adminapi.Durations{}}
	counts, err := s.countByState(ctx)
	if err != nil {
		return st, fmt.Errorf("jobs: stats: %w", err)
	}
	for _, state := range publicStates {
		st.Counts[state] = counts[state]
	}
	st.QueueDepth = counts[adminapi.StateQueued] + counts[adminapi.StateRetrying]
	now := time.Now()
	from := now.Add(-60 * time.Second).UnixMilli()
	st.Throughput = make([]float64, 60)
	rows, err := s.db.query(ctx, `SELECT finished_at FROM imgate_jobs WHERE state = ? AND finished_at >= ?`, adminapi.StateCompleted, from)
	if err != nil {
		return st, fmt.Errorf("jobs: stats: %w", err)
	}
	var n int64
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			rows.Close()
			return st, fmt.Errorf("jobs: stats: %w", err)
		}
		if i := int((at - from) / 1000); i >= 0 && i < 60 {
			st.Throughput[i]++
			n++
		}
	}
	rows.Close()
	st.JobsPerSec = float64(n) / 60
	durs, err := s.int64s(ctx, `SELECT duration_ms FROM imgate_jobs WHERE state = ? ORDER BY finished_at DESC LIMIT 1000`, adminapi.StateCompleted)
	if err != nil {
		return st, err
	}
	st.JobTiming = percentiles(durs)
	set, err := s.presets.current(ctx)
	if err != nil {
		return st, err
	}
	for _, name := range set.names() {
		ms, err := s.int64s(ctx, `SELECT ms FROM imgate_job_variants WHERE preset = ? ORDER BY at DESC LIMIT 1000`, name)
		if err != nil {
			return st, err
		}
		st.PresetTiming[name] = percentiles(ms)
	}
	if err := s.db.queryRow(ctx, `SELECT COALESCE(SUM(bytes_in), 0), COALESCE(SUM(bytes_out), 0) FROM imgate_jobs`).Scan(&st.BytesIn, &st.BytesOut); err != nil {
		return st, fmt.Errorf("jobs: stats: %w", err)
	}
	return st, nil
}

func (s *Service) int64s(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := s.db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("jobs: stats: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("jobs: stats: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// percentiles returns nearest-rank p50 and p95.
func percentiles(v []int64) adminapi.Durations {
	if len(v) == 0 {
		return adminapi.Durations{}
	}
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	rank := func(p float64) float64 {
		i := int(p*float64(len(v))+0.999999) - 1
		return float64(v[min(max(i, 0), len(v)-1)])
	}
	return adminapi.Durations{P50: rank(0.50), P95: rank(0.95), N: int64(len(v))}
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
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
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

// handleEvents streams job events as Server-Sent Events. A client resumes
// with Last-Event-ID (or ?last_event_id=N) and gets every event after it that
// the log still holds; without one it gets events from now on.
func (s *Service) handleEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lastStr := r.Header.Get("Last-Event-ID")
	if lastStr == "" {
		lastStr = r.URL.Query().Get("last_event_id")
	}
	var last int64
	if lastStr != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(lastStr), 10, 64)
		if err != nil || n < 0 {
			s.fail(w, r, &inputError{msg: fmt.Sprintf("Last-Event-ID %q is not a non-negative integer", lastStr)})
			return
		}
		last = n
	} else {
		n, err := s.events.last(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		last = n
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		s.fail(w, r, errors.New("streaming not supported by the response writer"))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "retry: 2000\n\n")
	flusher.Flush()
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	idle := 0
	for {
		wake := s.events.changed()
		evs, err := s.events.after(ctx, last, 500)
		if err != nil {
			return
		}
		for _, ev := range evs {
			data, err := json.Marshal(ev)
			if err != nil {
				continue
			}
			name := "job"
			if strings.HasPrefix(ev.Type, "backfill.") {
				name = "backfill"
			}
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.ID, name, data); err != nil {
				return
			}
			last = ev.ID
		}
		if len(evs) > 0 {
			flusher.Flush()
			idle = 0
			if len(evs) == 500 {
				continue
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-poll.C:
			// Other nodes append too; poll. Keep the connection alive.
			if idle++; idle%15 == 0 {
				if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
					return
				}
				flusher.Flush()
			}
		}
	}
}
