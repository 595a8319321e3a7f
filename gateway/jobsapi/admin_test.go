package jobsapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/jobs/jobstest"
)

var adminEndpoints = []struct{ method, path string }{
	{"GET", "/v1/admin/jobs"},
	{"GET", "/v1/admin/jobs/1"},
	{"POST", "/v1/admin/jobs/1/retry"},
	{"POST", "/v1/admin/jobs/1/cancel"},
	{"GET", "/v1/admin/stats"},
	{"GET", "/v1/admin/presets"},
	{"POST", "/v1/admin/presets"},
	{"PUT", "/v1/admin/presets/150x"},
	{"DELETE", "/v1/admin/presets/150x"},
	{"POST", "/v1/admin/presets/validate"},
	{"POST", "/v1/admin/preview"},
	{"POST", "/v1/admin/backfill"},
	{"GET", "/v1/admin/backfill"},
	{"DELETE", "/v1/admin/backfill"},
	{"POST", "/v1/admin/reconcile"},
	{"GET", "/v1/admin/events"},
}

func TestAdminRefusesMissingOrWrongToken(t *testing.T) {
	e := newEnv(t, jobstest.Options{})
	for _, ep := range adminEndpoints {
		for _, tok := range []string{"", "wrong-token", testAdminToken + "x", testEventsToken} {
			resp, raw := e.do(t, ep.method, ep.path, tok, `{"name":"x","geometry":"10x10"}`)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s token %q: %d, want 401", ep.method, ep.path, tok, resp.StatusCode)
				continue
			}
			var body adminapi.ErrorBody
			if err := json.Unmarshal(raw, &body); err != nil || body.Error.Code != "unauthorized" || body.Error.Message == "" {
				t.Errorf("%s %s: body %s", ep.method, ep.path, raw)
			}
		}
	}
	// Nothing changed.
	var list adminapi.PresetList
	e.admin(t, "GET", "/v1/admin/presets", nil, &list)
	if list.Version != 1 || len(list.Presets) != 3 {
		t.Errorf("presets changed by unauthorized calls: %+v", list)
	}
	// The events endpoint wants its own token.
	resp, _ := e.do(t, "POST", "/v1/events/s3", testAdminToken, `{"Records":[]}`)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("events with admin token: %d", resp.StatusCode)
	}
	resp, _ = e.do(t, "POST", "/v1/events/s3", "", `{"Records":[]}`)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("events without token: %d", resp.StatusCode)
	}
}

func TestAdminValidatesInput(t *testing.T) {
	e := newEnv(t, jobstest.Options{})
	cases := []struct {
		method, path string
		body         any
		want         string // in the message
	}{
		{"GET", "/v1/admin/jobs?state=bogus", nil, "state"},
		{"GET", "/v1/admin/jobs?limit=0", nil, "limit"},
		{"GET", "/v1/admin/jobs?limit=abc", nil, "limit"},
		{"GET", "/v1/admin/jobs?since=yesterday", nil, "since"},
		{"GET", "/v1/admin/jobs?cursor=-3", nil, "cursor"},
		{"GET", "/v1/admin/jobs/abc", nil, "job id"},
		{"POST", "/v1/admin/jobs/0/retry", nil, "job id"},
		{"POST", "/v1/admin/jobs/x/cancel", nil, "job id"},
		{"POST", "/v1/admin/presets", `{"name":"bad","geometry":"12q"}`, "bad"},
		{"POST", "/v1/admin/presets", `{"name":"a/b","geometry":"10x10"}`, "slash"},
		{"POST", "/v1/admin/presets", `{"geometry":"10x10","quality":500}`, "quality"},
		{"POST", "/v1/admin/presets", `{"geometry":`, "JSON"},
		{"POST", "/v1/admin/presets", `{"geometry":"10x10","colour":"red"}`, "colour"},
		{"PUT", "/v1/admin/presets/150x", `{"name":"150x","geometry":"-5x"}`, "150x"},
		{"PUT", "/v1/admin/presets/150x", `{"name":"other","geometry":"10x"}`, "differs"},
		{"DELETE", "/v1/admin/presets/150x?delete_variants=maybe", nil, "delete_variants"},
		{"POST", "/v1/admin/presets/validate", `[1,2]`, "JSON"},
		{"POST", "/v1/admin/preview", `{"preset":{"geometry":"zz"}}`, "zz"},
		{"POST", "/v1/admin/preview", `{"preset":{"geometry":"10x10"},"key":"../etc"}`, "key"},
		{"POST", "/v1/admin/preview", `{"preset":{"geometry":"10x10"}}`, "no original"},
		{"POST", "/v1/admin/backfill", `{"presets":["nope"]}`, "nope"},
		{"POST", "/v1/admin/backfill", `{"presets":"150x"}`, "JSON"},
		{"GET", "/v1/admin/events?last_event_id=abc", nil, "Last-Event-ID"},
	}
	for _, c := range cases {
		resp, raw := e.do(t, c.method, c.path, testAdminToken, c.body)
		var body adminapi.ErrorBody
		_ = json.Unmarshal(raw, &body)
		if resp.StatusCode != http.StatusBadRequest || body.Error.Message == "" || !strings.Contains(body.Error.Message, c.want) {
			t.Errorf("%s %s %v: %d %s; want 400 naming %q", c.method, c.path, c.body, resp.StatusCode, raw, c.want)
		}
	}
	// validate answers 200 with the verdict.
	var v adminapi.Validation
	if code := e.admin(t, "POST", "/v1/admin/presets/validate", adminapi.Preset{Geometry: "50x50^", Crop: true}, &v); code != 200 || !v.Valid {
		t.Errorf("validate good: %d %+v", code, v)
	}
	if code := e.admin(t, "POST", "/v1/admin/presets/validate", adminapi.Preset{Geometry: "50y50"}, &v); code != 200 || v.Valid || v.Error == "" {
		t.Errorf("validate bad: %d %+v", code, v)
	}
	// Unknown ids and names are 404.
	for _, p := range []string{"/v1/admin/jobs/999", "/v1/admin/backfill"} {
		if resp, _ := e.do(t, "GET", p, testAdminToken, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	if resp, _ := e.do(t, "PUT", "/v1/admin/presets/nosuch", testAdminToken, `{"geometry":"10x"}`); resp.StatusCode != http.StatusNotFound {
		t.Errorf("PUT unknown preset: %d", resp.StatusCode)
	}
	if resp, _ := e.do(t, "POST", "/v1/admin/presets", testAdminToken, `{"geometry":"150x"}`); resp.StatusCode != http.StatusConflict {
		t.Errorf("create existing preset: %d, want 409", resp.StatusCode)
	}
}

func TestAdminJobsRetryCancelStatsPreview(t *testing.T) {
	e := newEnv(t, jobstest.Options{})
	e.Upload(t, "bad.jpg", []byte("not an image, clearly"))
	time.Sleep(10 * time.Millisecond)
	e.Upload(t, "ok.jpg", jobstest.JPEG(t, 300, 200))
	ok := e.WaitKey(t, "ok.jpg", adminapi.StateCompleted)
	bad := e.WaitKey(t, "bad.jpg", adminapi.StateFailed)

	var list adminapi.JobList
	if code := e.admin(t, "GET", "/v1/admin/jobs?state=failed", nil, &list); code != 200 || len(list.Jobs) != 1 || list.Jobs[0].ID != bad.ID {
		t.Fatalf("failed jobs: %d %+v", code, list)
	}
	if code := e.admin(t, "GET", "/v1/admin/jobs?prefix=ok&limit=1", nil, &list); code != 200 || len(list.Jobs) != 1 || list.Jobs[0].Key != "ok.jpg" {
		t.Fatalf("prefix filter: %d %+v", code, list)
	}
	if code := e.admin(t, "GET", "/v1/admin/jobs?limit=1", nil, &list); code != 200 || list.Next == "" || list.Jobs[0].Key != "ok.jpg" {
		t.Fatalf("paging: %+v", list)
	}
	var page2 adminapi.JobList
	e.admin(t, "GET", "/v1/admin/jobs?limit=1&cursor="+list.Next, nil, &page2)
	if len(page2.Jobs) != 1 || page2.Jobs[0].ID == list.Jobs[0].ID {
		t.Fatalf("page 2: %+v", page2)
	}
	var j adminapi.Job
	if code := e.admin(t, "GET", fmt.Sprintf("/v1/admin/jobs/%d", ok.ID), nil, &j); code != 200 || len(j.Variants) != 3 {
		t.Fatalf("job detail: %+v", j)
	}
	if resp, _ := e.do(t, "POST", fmt.Sprintf("/v1/admin/jobs/%d/retry", ok.ID), testAdminToken, nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("retry completed job: %d, want 409", resp.StatusCode)
	}
	// Retry the failed job: it runs again and fails again (same bytes), with a second error.
	if code := e.admin(t, "POST", fmt.Sprintf("/v1/admin/jobs/%d/retry", bad.ID), nil, &j); code != 200 {
		t.Fatalf("retry: %d", code)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, _ = e.Svc.Job(context.Background(), bad.ID)
		if j.State == adminapi.StateFailed && len(j.Errors) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retried job: %+v", j)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if j.Source != "retry" {
		t.Errorf("source after retry = %q", j.Source)
	}
	// Cancel a queued job: stop the workers first so it stays queued.
	e2 := newEnv(t, jobstest.Options{NoStart: true})
	e2.Upload(t, "wait.jpg", jobstest.JPEG(t, 100, 100))
	queued := e2.WaitKey(t, "wait.jpg", adminapi.StateQueued)
	if code := e2.admin(t, "POST", fmt.Sprintf("/v1/admin/jobs/%d/cancel", queued.ID), nil, &j); code != 200 || j.State != adminapi.StateCancelled {
		t.Fatalf("cancel: %d %+v", code, j)
	}

	var st adminapi.Stats
	if code := e.admin(t, "GET", "/v1/admin/stats", nil, &st); code != 200 {
		t.Fatalf("stats: %d", code)
	}
	if st.Counts["completed"] != 1 || st.Counts["failed"] != 1 || len(st.Throughput) != 60 || st.JobTiming.N != 1 || st.PresetTiming["150x"].N != 1 || st.BytesIn == 0 || st.BytesOut == 0 {
		t.Errorf("stats = %+v", st)
	}

	resp, raw := e.do(t, "POST", "/v1/admin/preview", testAdminToken, adminapi.PreviewRequest{Preset: adminapi.Preset{Geometry: "40x40^", Crop: true}, Key: "ok.jpg"})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("preview: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 40 || b.Dy() != 40 {
		t.Errorf("preview size %v", b)
	}
	// No key: the newest original.
	resp, _ = e.do(t, "POST", "/v1/admin/preview", testAdminToken, adminapi.PreviewRequest{Preset: adminapi.Preset{Geometry: "20x"}})
	if resp.StatusCode != 200 {
		t.Errorf("preview newest: %d", resp.StatusCode)
	}
	// A preview of a broken original is a clear 422.
	resp, raw = e.do(t, "POST", "/v1/admin/preview", testAdminToken, adminapi.PreviewRequest{Preset: adminapi.Preset{Geometry: "20x"}, Key: "bad.jpg"})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("preview of a non-image: %d %s", resp.StatusCode, raw)
	}
}

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct {
	id   int64
	name string
	ev   adminapi.Event
}

// readSSE reads events from the stream until n were read or timeout.
func readSSE(t *testing.T, url, lastID string, n int, timeout time.Duration) []sseEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/v1/admin/events", nil)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var (
		out []sseEvent
		cur sseEvent
	)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			cur.id, _ = strconv.ParseInt(line[4:], 10, 64)
		case strings.HasPrefix(line, "event: "):
			cur.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(line[6:]), &cur.ev); err != nil {
				t.Fatalf("event data: %v", err)
			}
		case line == "":
			if cur.id != 0 {
				out = append(out, cur)
				if len(out) == n {
					return out
				}
			}
			cur = sseEvent{}
		}
	}
	return out
}

func TestSSEResumesFromLastEventID(t *testing.T) {
	e := newEnv(t, jobstest.Options{})
	// Generate events: 3 jobs × (queued, running, completed).
	for i := range 3 {
		e.Upload(t, fmt.Sprintf("sse/%d.jpg", i), jobstest.JPEG(t, 80, 60))
	}
	for i := range 3 {
		e.WaitKey(t, fmt.Sprintf("sse/%d.jpg", i), adminapi.StateCompleted)
	}
	all := readSSE(t, e.srv.URL, "0", 9, 10*time.Second)
	if len(all) != 9 {
		t.Fatalf("got %d events from id 0, want 9", len(all))
	}
	for i, ev := range all {
		if ev.id != ev.ev.ID || ev.name != "job" || ev.ev.Job == nil || !strings.HasPrefix(ev.ev.Type, "job.") {
			t.Fatalf("event %d malformed: %+v", i, ev)
		}
		if i > 0 && ev.id <= all[i-1].id {
			t.Fatalf("ids not increasing: %d after %d", ev.id, all[i-1].id)
		}
	}
	// Disconnect after 4 events, then resume: the rest arrive, none twice, none lost.
	first := readSSE(t, e.srv.URL, "0", 4, 10*time.Second)
	rest := readSSE(t, e.srv.URL, strconv.FormatInt(first[3].id, 10), 5, 10*time.Second)
	got := append(first, rest...)
	if len(got) != len(all) {
		t.Fatalf("resumed stream has %d events, want %d", len(got), len(all))
	}
	for i := range all {
		if got[i].id != all[i].id || got[i].ev.Type != all[i].ev.Type {
			t.Fatalf("event %d: %d %s, want %d %s", i, got[i].id, got[i].ev.Type, all[i].id, all[i].ev.Type)
		}
	}
	// Live: a client connected without Last-Event-ID gets new events only, and
	// events appended while it was reconnecting are delivered after resume.
	lastSeen := all[len(all)-1].id
	e.Upload(t, "sse/live.jpg", jobstest.JPEG(t, 80, 60))
	e.WaitKey(t, "sse/live.jpg", adminapi.StateCompleted)
	live := readSSE(t, e.srv.URL, strconv.FormatInt(lastSeen, 10), 3, 10*time.Second)
	if len(live) != 3 || live[0].id != lastSeen+1 || live[2].ev.Type != "job.completed" || live[2].ev.Job.Key != "sse/live.jpg" {
		t.Fatalf("live events after resume: %+v", live)
	}
	// Streaming while jobs happen: connect first, then upload.
	done := make(chan []sseEvent, 1)
	go func() { done <- readSSE(t, e.srv.URL, "", 3, 15*time.Second) }()
	time.Sleep(300 * time.Millisecond)
	e.Upload(t, "sse/stream.jpg", jobstest.JPEG(t, 80, 60))
	streamed := <-done
	if len(streamed) != 3 || streamed[0].ev.Job.Key != "sse/stream.jpg" {
		t.Fatalf("streamed: %+v", streamed)
	}
}

func TestStatsOnEmptyStore(t *testing.T) {
	e := newEnv(t, jobstest.Options{NoStart: true})
	var st adminapi.Stats
	if code := e.admin(t, "GET", "/v1/admin/stats", nil, &st); code != 200 || st.Counts == nil || len(st.Throughput) != 60 {
		t.Fatalf("stats on an empty store: %d %+v", code, st)
	}
}
