package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/storage/fs"
	"github.com/imgate/imgate/internal/testenv"
	"github.com/imgate/imgate/resizer"
)

const (
	testAdminToken  = "admin-secret-token"
	testEventsToken = "events-secret-token"
)

type testEnv struct {
	svc   *Service
	store storage.Storage
	srv   *httptest.Server
}

type envOpts struct {
	databaseURL string
	dataDir     string
	noStart     bool
	limits      resizer.Limits
}

func newEnv(t *testing.T, o envOpts) *testEnv {
	t.Helper()
	return newEnvTB(t, o)
}

func newEnvTB(t testing.TB, o envOpts) *testEnv {
	t.Helper()
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	store, err := fs.New(filepath.Join(o.dataDir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, b := range []string{"imgate-original", "imgate-resized"} {
		if err := store.EnsureBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := Open(ctx, Config{
		Storage:     store,
		Bucket:      "imgate",
		DatabaseURL: o.databaseURL,
		SQLitePath:  filepath.Join(o.dataDir, "jobs.db"),
		Resizer:     resizer.New(resizer.Options{Limits: o.limits}),
		Workers:     2,
		JobTimeout:  30 * time.Second,
		MaxAttempts: 3,
		AdminToken:  testAdminToken,
		EventsToken: testEventsToken,
		Logger:      testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{svc: svc, store: store}
	if !o.noStart {
		if err := svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/admin/", svc.AdminHandler())
	mux.Handle("/v1/events/s3", svc.EventsHandler())
	e.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		e.srv.CloseClientConnections()
		e.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = svc.Stop(ctx)
	})
	return e
}

// jpegBytes returns a w×h JPEG with a gradient.
func jpegBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (e *testEnv) put(t testing.TB, key string, data []byte) storage.ObjectInfo {
	t.Helper()
	info, err := e.store.Put(context.Background(), "imgate-original", key, bytes.NewReader(data), int64(len(data)), storage.PutOptions{ContentType: "image/jpeg"})
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// upload stores an original and enqueues it as the gateway would.
func (e *testEnv) upload(t testing.TB, key string, data []byte) storage.ObjectInfo {
	t.Helper()
	info := e.put(t, key, data)
	if err := e.svc.Enqueue(context.Background(), info, "gateway"); err != nil {
		t.Fatal(err)
	}
	return info
}

func (e *testEnv) do(t testing.TB, method, path, token string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, raw
}

func (e *testEnv) admin(t testing.TB, method, path string, body, out any) int {
	t.Helper()
	resp, raw := e.do(t, method, path, testAdminToken, body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}

// waitJobs waits until every job of key reached a final state and returns them.
func (e *testEnv) waitKey(t testing.TB, key string, want string) adminapi.Job {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		list, err := e.svc.listJobs(context.Background(), jobFilter{Prefix: key, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range list.Jobs {
			if j.Key == key && j.State == want {
				full, err := e.svc.getJob(context.Background(), j.ID, true)
				if err != nil {
					t.Fatal(err)
				}
				return full
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	list, _ := e.svc.listJobs(context.Background(), jobFilter{Prefix: key, Limit: 50})
	t.Fatalf("no %s job for %q within 60s; jobs: %+v", want, key, list.Jobs)
	return adminapi.Job{}
}

func decodeSize(t testing.TB, data []byte) (int, int) {
	t.Helper()
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode variant: %v", err)
	}
	return cfg.Width, cfg.Height
}

func (e *testEnv) variant(t testing.TB, preset, key string) ([]byte, storage.ObjectInfo, error) {
	t.Helper()
	rc, info, err := e.store.Get(context.Background(), "imgate-resized", preset+"/"+key, storage.GetOptions{Length: -1})
	if err != nil {
		return nil, info, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	return data, info, err
}

func TestPipelineRendersEveryPresetWithMetadata(t *testing.T) {
	e := newEnv(t, envOpts{})
	info := e.upload(t, "photos/a b.jpg", jpegBytes(t, 400, 300))
	job := e.waitKey(t, "photos/a b.jpg", adminapi.StateCompleted)
	if len(job.Variants) != 3 {
		t.Fatalf("variants = %+v", job.Variants)
	}
	want := map[string][2]int{"50x50": {50, 38}, "150x": {150, 113}, "x150": {200, 150}}
	for preset, wh := range want {
		data, vinfo, err := e.variant(t, preset, "photos/a b.jpg")
		if err != nil {
			t.Fatalf("%s: %v", preset, err)
		}
		w, h := decodeSize(t, data)
		if w != wh[0] || h != wh[1] {
			t.Errorf("%s: %dx%d, want %dx%d", preset, w, h, wh[0], wh[1])
		}
		if vinfo.ContentType != "image/jpeg" || vinfo.CacheControl != defaultCacheControl {
			t.Errorf("%s: content type %q cache-control %q", preset, vinfo.ContentType, vinfo.CacheControl)
		}
		if vinfo.Metadata[metaSourceETag] != info.ETag || vinfo.Metadata[metaPresetVersion] != "1" {
			t.Errorf("%s: metadata %v, want source etag %s version 1", preset, vinfo.Metadata, info.ETag)
		}
	}
	for _, v := range job.Variants {
		if v.Bytes <= 0 || v.Width <= 0 || v.Key != v.Preset+"/photos/a b.jpg" {
			t.Errorf("variant output %+v", v)
		}
	}
}

func TestDuplicateTriggersCollapse(t *testing.T) {
	e := newEnv(t, envOpts{noStart: true})
	info := e.put(t, "dup.jpg", jpegBytes(t, 200, 100))
	ctx := context.Background()
	for _, src := range []string{"gateway", "webhook", "reconcile", "gateway"} {
		if err := e.svc.Enqueue(ctx, info, src); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := e.svc.Reconcile(ctx); err != nil || res.Enqueued != 0 {
		t.Fatalf("reconcile = %+v, %v; want nothing new enqueued", res, err)
	}
	list, err := e.svc.listJobs(ctx, jobFilter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Jobs) != 1 || list.Jobs[0].Source != "gateway" {
		t.Fatalf("jobs = %+v, want exactly one (from the first trigger)", list.Jobs)
	}
	if err := e.svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e.waitKey(t, "dup.jpg", adminapi.StateCompleted)
	// After completion, the same trigger again is still the same job.
	if err := e.svc.Enqueue(ctx, info, "webhook"); err != nil {
		t.Fatal(err)
	}
	list, _ = e.svc.listJobs(ctx, jobFilter{Limit: 50})
	if len(list.Jobs) != 1 {
		t.Fatalf("jobs after re-trigger = %d, want 1", len(list.Jobs))
	}
}

func TestPermanentFailuresFailAtOnceWithReason(t *testing.T) {
	e := newEnv(t, envOpts{limits: resizer.Limits{MaxPixels: 1_000_000}})
	cases := []struct {
		key, want string
		data      []byte
	}{
		{"text.jpg", "not an image", []byte("hello, this is plain text and not a picture at all")},
		{"trunc.jpg", "", jpegBytes(t, 300, 300)[:600]},
		{"huge.jpg", "", jpegBytes(t, 1200, 1000)},
	}
	for _, c := range cases {
		e.upload(t, c.key, c.data)
	}
	for _, c := range cases {
		j := e.waitKey(t, c.key, adminapi.StateFailed)
		if j.Attempt != 1 || j.Error == "" || len(j.Errors) != 1 {
			t.Errorf("%s: attempt %d error %q history %v; want one attempt with a reason", c.key, j.Attempt, j.Error, j.Errors)
		}
		if c.want != "" && !strings.Contains(j.Error, c.want) {
			t.Errorf("%s: error %q does not name %q", c.key, j.Error, c.want)
		}
		t.Logf("%s: %s", c.key, j.Error)
	}
	// The next good upload is processed.
	e.upload(t, "good.jpg", jpegBytes(t, 100, 100))
	e.waitKey(t, "good.jpg", adminapi.StateCompleted)
}

func TestPanicFailsOneJob(t *testing.T) {
	e := newEnv(t, envOpts{noStart: true})
	e.svc.testHookResize = func(key string) {
		if key == "boom.jpg" {
			panic("synthetic panic in the pipeline")
		}
	}
	if err := e.svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.upload(t, "boom.jpg", jpegBytes(t, 100, 100))
	j := e.waitKey(t, "boom.jpg", adminapi.StateFailed)
	if !strings.Contains(j.Error, "internal error") || strings.Contains(j.Error, "synthetic") {
		t.Errorf("error %q: want the public internal-error text only", j.Error)
	}
	e.upload(t, "fine.jpg", jpegBytes(t, 100, 100))
	e.waitKey(t, "fine.jpg", adminapi.StateCompleted)
}

func TestDeletedRemovesVariantsAndForgetsJob(t *testing.T) {
	e := newEnv(t, envOpts{})
	data := jpegBytes(t, 300, 200)
	e.upload(t, "d/x.jpg", data)
	e.waitKey(t, "d/x.jpg", adminapi.StateCompleted)
	ctx := context.Background()
	if err := e.store.Delete(ctx, "imgate-original", "d/x.jpg"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Deleted(ctx, "imgate-original", "d/x.jpg"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"50x50", "150x", "x150"} {
		if _, _, err := e.variant(t, p, "d/x.jpg"); err == nil {
			t.Errorf("%s variant still exists", p)
		}
	}
	// Re-uploading identical bytes renders again.
	e.upload(t, "d/x.jpg", data)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, _, err := e.variant(t, "150x", "d/x.jpg"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("re-upload after delete was not processed")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestReconcileFindsMissingAndStale(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	e.put(t, "direct.jpg", jpegBytes(t, 200, 200)) // no trigger: as if PUT straight to the backend
	res, err := e.svc.Reconcile(ctx)
	if err != nil || res.Scanned != 1 || res.Enqueued != 1 {
		t.Fatalf("reconcile = %+v, %v", res, err)
	}
	e.waitKey(t, "direct.jpg", adminapi.StateCompleted)
	if res, _ := e.svc.Reconcile(ctx); res.Enqueued != 0 {
		t.Fatalf("second reconcile enqueued %d, want 0", res.Enqueued)
	}
	// A variant deleted behind our back is repaired.
	if err := e.store.Delete(ctx, "imgate-resized", "x150/direct.jpg"); err != nil {
		t.Fatal(err)
	}
	if res, _ := e.svc.Reconcile(ctx); res.Enqueued != 1 {
		t.Fatalf("reconcile after variant loss enqueued %d, want 1", res.Enqueued)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, _, err := e.variant(t, "x150", "direct.jpg"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("lost variant not repaired")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Replacing the original makes its variants stale.
	e.put(t, "direct.jpg", jpegBytes(t, 100, 300))
	if res, _ := e.svc.Reconcile(ctx); res.Enqueued != 1 {
		t.Fatalf("reconcile after new content enqueued %d, want 1", res.Enqueued)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		data, _, err := e.variant(t, "x150", "direct.jpg")
		if err == nil {
			if w, h := decodeSize(t, data); w == 50 && h == 150 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("stale variant not re-rendered")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBackfillRendersNewPresetWithProgress(t *testing.T) {
	e := newEnv(t, envOpts{})
	for i := range 5 {
		e.upload(t, fmt.Sprintf("bf/%d.jpg", i), jpegBytes(t, 160+i, 120))
	}
	for i := range 5 {
		e.waitKey(t, fmt.Sprintf("bf/%d.jpg", i), adminapi.StateCompleted)
	}
	var list adminapi.PresetList
	if code := e.admin(t, "POST", "/v1/admin/presets", adminapi.Preset{Name: "64x64^", Geometry: "64x64^", Crop: true}, &list); code != http.StatusCreated {
		t.Fatalf("create preset: %d", code)
	}
	if list.Version != 2 || len(list.Presets) != 4 {
		t.Fatalf("presets = %+v", list)
	}
	var b adminapi.Backfill
	if code := e.admin(t, "POST", "/v1/admin/backfill", adminapi.BackfillRequest{}, &b); code != http.StatusAccepted {
		t.Fatalf("start backfill: %d", code)
	}
	if code := e.admin(t, "POST", "/v1/admin/backfill", adminapi.BackfillRequest{}, nil); code != http.StatusConflict {
		t.Errorf("second backfill while running: %d, want 409", code)
	}
	deadline := time.Now().Add(60 * time.Second)
	for b.State != "done" {
		if time.Now().After(deadline) {
			t.Fatalf("backfill not done: %+v", b)
		}
		time.Sleep(100 * time.Millisecond)
		if code := e.admin(t, "GET", "/v1/admin/backfill", nil, &b); code != http.StatusOK {
			t.Fatalf("get backfill: %d", code)
		}
	}
	if b.Total != 5 || b.Done != 5 || !b.Scanned || b.Failed != 0 || b.Enqueued != 5 {
		t.Fatalf("backfill = %+v", b)
	}
	for i := range 5 {
		data, _, err := e.variant(t, "64x64^", fmt.Sprintf("bf/%d.jpg", i))
		if err != nil {
			t.Fatal(err)
		}
		if w, h := decodeSize(t, data); w != 64 || h != 64 {
			t.Errorf("64x64^ variant %dx%d", w, h)
		}
	}
	// Removing the preset with delete_variants deletes them.
	if code := e.admin(t, "DELETE", "/v1/admin/presets/64x64%5E?delete_variants=true", nil, &list); code != http.StatusOK {
		t.Fatalf("delete preset: %d", code)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		n := 0
		for _, err := range e.store.List(context.Background(), "imgate-resized", storage.ListOptions{Prefix: "64x64^/"}) {
			if err == nil {
				n++
			}
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d variants of the deleted preset remain", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBackfillResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, envOpts{dataDir: dir, noStart: true})
	for i := range 3 {
		e.put(t, fmt.Sprintf("r/%d.jpg", i), jpegBytes(t, 120, 90))
	}
	// Start a backfill on a service that never runs it (as if it crashed right after).
	if _, err := e.svc.startBackfill(context.Background(), adminapi.BackfillRequest{}); err != nil {
		t.Fatal(err)
	}
	e.srv.Close()
	if err := e.svc.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	e2 := newEnv(t, envOpts{dataDir: dir})
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, err := e2.svc.backfill(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if b.State == "done" {
			if b.Total != 3 || b.Done != 3 {
				t.Fatalf("backfill = %+v", b)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backfill not resumed: %+v", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestPostgresPipeline(t *testing.T) {
	dsn := testenv.Postgres(t)
	e := newEnv(t, envOpts{databaseURL: dsn})
	e.upload(t, "pg/a.jpg", jpegBytes(t, 300, 300))
	j := e.waitKey(t, "pg/a.jpg", adminapi.StateCompleted)
	if len(j.Variants) != 3 {
		t.Fatalf("variants %+v", j.Variants)
	}
	// Two services on one database share one queue and one preset store.
	e2 := newEnv(t, envOpts{databaseURL: dsn})
	var list adminapi.PresetList
	if code := e2.admin(t, "GET", "/v1/admin/presets", nil, &list); code != 200 || list.Version != 1 {
		t.Fatalf("presets from second node: %d %+v", code, list)
	}
	var jl adminapi.JobList
	if code := e2.admin(t, "GET", "/v1/admin/jobs", nil, &jl); code != 200 || len(jl.Jobs) != 1 {
		t.Fatalf("jobs from second node: %d %+v", code, jl)
	}
	// The event stream of either node carries the events of both.
	evs := readSSE(t, e2.srv.URL, "0", 3, 10*time.Second)
	if len(evs) != 3 || evs[2].ev.Type != "job.completed" || evs[2].ev.Job.Key != "pg/a.jpg" {
		t.Fatalf("events via the second node: %+v", evs)
	}
}

func TestEventLogKeepsTheNewest(t *testing.T) {
	e := newEnv(t, envOpts{noStart: true})
	e.svc.events.keep = 5
	ctx := context.Background()
	for range 12 {
		e.svc.events.append(ctx, adminapi.Event{Type: "backfill.progress", Backfill: &adminapi.Backfill{}})
	}
	e.svc.events.prune(ctx)
	evs, err := e.svc.events.after(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 5 || evs[0].ID != 8 || evs[4].ID != 12 {
		t.Fatalf("kept %d events from %d, want ids 8..12", len(evs), evs[0].ID)
	}
}

func TestDeletedCancelsWaitingJobs(t *testing.T) {
	e := newEnv(t, envOpts{noStart: true})
	ctx := context.Background()
	data := jpegBytes(t, 100, 100)
	e.upload(t, "w.jpg", data)
	queued := e.waitKey(t, "w.jpg", adminapi.StateQueued)
	if err := e.store.Delete(ctx, "imgate-original", "w.jpg"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Deleted(ctx, "imgate-original", "w.jpg"); err != nil {
		t.Fatal(err)
	}
	j, err := e.svc.getJob(ctx, queued.ID, false)
	if err != nil || j.State != adminapi.StateCancelled {
		t.Fatalf("job after delete: %+v %v", j, err)
	}
	// Uploading the same bytes again is a new job that runs.
	if err := e.svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e.upload(t, "w.jpg", data)
	done := e.waitKey(t, "w.jpg", adminapi.StateCompleted)
	if done.ID == queued.ID {
		t.Fatal("the cancelled job was reused")
	}
}
