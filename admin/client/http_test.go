package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/adminapi"
)

const testToken = "s3cret-token"

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	var eb adminapi.ErrorBody
	eb.Error.Code, eb.Error.Message = code, msg
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(eb)
}

// cannedServer serves a few admin endpoints with fixed answers and records
// the requests it saw.
type cannedServer struct {
	mu   sync.Mutex
	seen []string
	// events holds the stream; a connection sends those after Last-Event-ID,
	// then (for the first cutAfter connections) drops.
	events   []adminapi.Event
	conns    int
	cutFirst int
	lastIDs  []string
}

func (s *cannedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.seen = append(s.seen, r.Method+" "+r.URL.RequestURI())
	s.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		writeErr(w, 401, "unauthorized", "missing or wrong admin token")
		return
	}
	switch {
	case r.Method == "GET" && r.URL.Path == "/v1/admin/jobs":
		_ = json.NewEncoder(w).Encode(adminapi.JobList{Jobs: []adminapi.Job{{ID: 7, State: "completed", Key: "a.jpg"}}, Next: "c2"})
	case r.Method == "GET" && r.URL.Path == "/v1/admin/jobs/7":
		_ = json.NewEncoder(w).Encode(adminapi.Job{ID: 7, State: "failed", Errors: []adminapi.JobError{{Attempt: 1, Error: "boom"}}})
	case r.Method == "GET" && r.URL.Path == "/v1/admin/jobs/8":
		writeErr(w, 404, "not_found", "no such job")
	case r.Method == "POST" && r.URL.Path == "/v1/admin/presets":
		var p adminapi.Preset
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil || p.Geometry == "bad" {
			writeErr(w, 400, "invalid_preset", `geometry "bad": expected WxH`)
			return
		}
		w.WriteHeader(201)
		_ = json.NewEncoder(w).Encode(adminapi.PresetList{Version: 2, Presets: []adminapi.Preset{p}})
	case r.Method == "DELETE" && strings.HasPrefix(r.URL.Path, "/v1/admin/presets/"):
		_ = json.NewEncoder(w).Encode(adminapi.PresetList{Version: 3})
	case r.Method == "POST" && r.URL.Path == "/v1/admin/preview":
		var buf bytes.Buffer
		_ = png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 4)))
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(buf.Bytes())
	case r.Method == "GET" && r.URL.Path == "/v1/admin/backfill":
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(502)
		_, _ = w.Write([]byte("bad gateway from a proxy"))
	case r.Method == "GET" && r.URL.Path == "/v1/admin/events":
		s.serveEvents(w, r)
	default:
		writeErr(w, 404, "not_found", "no route")
	}
}

func (s *cannedServer) serveEvents(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.conns++
	conn := s.conns
	s.lastIDs = append(s.lastIDs, r.Header.Get("Last-Event-ID"))
	s.mu.Unlock()
	after, _ := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(200)
	fl := w.(http.Flusher)
	fmt.Fprint(w, ": hello\n\n")
	sent := 0
	for _, ev := range s.events {
		if ev.ID <= after {
			continue
		}
		b, _ := json.Marshal(ev)
		fmt.Fprintf(w, "id: %d\nevent: job\ndata: %s\n\n", ev.ID, b)
		fl.Flush()
		sent++
		if conn <= s.cutFirst && sent == 2 {
			return // drop the connection mid-stream
		}
	}
	<-r.Context().Done()
}

func newTestClient(t *testing.T, h http.Handler, token string) *HTTP {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := NewHTTP(HTTPConfig{BaseURL: srv.URL, Token: token, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHTTPRequestsAndErrors(t *testing.T) {
	s := &cannedServer{}
	c := newTestClient(t, s, testToken)
	ctx := context.Background()

	list, err := c.Jobs(ctx, JobFilter{State: "failed", Prefix: "photos/", Limit: 5})
	if err != nil || len(list.Jobs) != 1 || list.Next != "c2" {
		t.Fatalf("Jobs = %+v, %v", list, err)
	}
	j, err := c.Job(ctx, 7)
	if err != nil || j.State != "failed" || len(j.Errors) != 1 {
		t.Fatalf("Job = %+v, %v", j, err)
	}
	_, err = c.Job(ctx, 8)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 404 || ae.Message != "no such job" || !errors.Is(err, ErrNotFound) {
		t.Fatalf("Job(8) err = %v", err)
	}
	_, err = c.CreatePreset(ctx, adminapi.Preset{Name: "b", Geometry: "bad"})
	if err == nil || !strings.Contains(err.Error(), `geometry "bad": expected WxH`) || !strings.Contains(err.Error(), "HTTP 400") {
		t.Fatalf("CreatePreset(bad) err = %v", err)
	}
	pl, err := c.CreatePreset(ctx, adminapi.Preset{Name: "64x64^", Geometry: "64x64^"})
	if err != nil || pl.Version != 2 {
		t.Fatalf("CreatePreset = %+v, %v", pl, err)
	}
	if _, err := c.DeletePreset(ctx, "64x64^", true); err != nil {
		t.Fatal(err)
	}
	img, err := c.Preview(ctx, adminapi.PreviewRequest{Preset: adminapi.Preset{Geometry: "8x4"}})
	if err != nil || img.Bounds().Dx() != 8 || img.Bounds().Dy() != 4 {
		t.Fatalf("Preview = %v, %v", img, err)
	}
	_, err = c.Backfill(ctx)
	if err == nil || !strings.Contains(err.Error(), "bad gateway from a proxy (HTTP 502)") {
		t.Fatalf("Backfill err = %v", err)
	}

	s.mu.Lock()
	seen := strings.Join(s.seen, "\n")
	s.mu.Unlock()
	for _, want := range []string{
		"GET /v1/admin/jobs?limit=5&prefix=photos%2F&state=failed",
		"DELETE /v1/admin/presets/64x64%5E?delete_variants=true",
	} {
		if !strings.Contains(seen, want) {
			t.Errorf("server did not see %q; saw:\n%s", want, seen)
		}
	}
}

func TestHTTPWrongToken(t *testing.T) {
	c := newTestClient(t, &cannedServer{}, "wrong")
	_, err := c.Stats(context.Background())
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "missing or wrong admin token") {
		t.Fatalf("err = %v", err)
	}
}

func TestNewHTTPValidates(t *testing.T) {
	for _, cfg := range []HTTPConfig{{BaseURL: "127.0.0.1:8080", Token: "t"}, {BaseURL: "http://h:1"}, {BaseURL: "ftp://h", Token: "t"}} {
		if _, err := NewHTTP(cfg); err == nil {
			t.Errorf("NewHTTP(%+v) accepted", cfg)
		}
	}
}

func TestEventsResumeAfterDrop(t *testing.T) {
	s := &cannedServer{cutFirst: 2}
	for i := int64(1); i <= 5; i++ {
		s.events = append(s.events, adminapi.Event{ID: i, Type: "job.completed", Job: &adminapi.Job{ID: 100 + i}})
	}
	c := newTestClient(t, s, testToken)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, status := c.Events(ctx, 0)
	var got []int64
	var statuses []StreamStatus
	for len(got) < 5 {
		select {
		case ev := <-events:
			got = append(got, ev.ID)
		case st := <-status:
			statuses = append(statuses, st)
		case <-time.After(10 * time.Second):
			t.Fatalf("stalled; got %v, statuses %+v", got, statuses)
		}
	}
	if fmt.Sprint(got) != "[1 2 3 4 5]" {
		t.Fatalf("events = %v, want each exactly once in order", got)
	}
	s.mu.Lock()
	ids := append([]string(nil), s.lastIDs...)
	s.mu.Unlock()
	if len(ids) < 3 || ids[0] != "" || ids[1] != "2" || ids[2] != "4" {
		t.Fatalf("Last-Event-ID per connection = %q, want [\"\" 2 4 …]", ids)
	}
	var disconnects int
	for _, st := range statuses {
		if !st.Connected {
			disconnects++
			if st.Err == nil || st.RetryIn <= 0 {
				t.Errorf("disconnect status without error/retry: %+v", st)
			}
		}
	}
	if disconnects < 2 {
		t.Errorf("want 2 disconnect statuses, got %+v", statuses)
	}
	cancel()
	for range events {
	}
}

func TestEventsUnauthorizedKeepsRetrying(t *testing.T) {
	c := newTestClient(t, &cannedServer{}, "wrong")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, status := c.Events(ctx, 0)
	for i := 0; i < 3; i++ {
		st := <-status
		if st.Connected || !errors.Is(st.Err, ErrUnauthorized) || st.Attempt != i+1 {
			t.Fatalf("status %d = %+v", i, st)
		}
	}
}
