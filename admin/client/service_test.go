package client_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/imgate/imgate/admin/client"
	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/jobs"
	"github.com/imgate/imgate/gateway/jobsapi"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/storage/fs"
	"github.com/imgate/imgate/resizer"
)

// realAPI runs the real admin API (package jobs on fs storage and SQLite)
// in-process, so the HTTP client is tested against the server it talks to.
type realAPI struct {
	svc   *jobs.Service
	store *fs.Store
	url   string
}

const adminToken = "adm_client_test"

func startRealAPI(t *testing.T) *realAPI {
	t.Helper()
	dir := t.TempDir()
	store, err := fs.New(filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, b := range []string{"imgate-original", "imgate-resized"} {
		if err := store.EnsureBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := jobs.Open(ctx, jobs.Config{
		Storage: store, Bucket: "imgate", SQLitePath: filepath.Join(dir, "jobs.db"),
		Resizer: resizer.New(resizer.Options{}), Workers: 1, MaxAttempts: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/admin/", jobsapi.New(jobsapi.Config{Jobs: svc, AdminToken: adminToken}).Admin())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = svc.Stop(ctx)
	})
	return &realAPI{svc: svc, store: store, url: srv.URL}
}

func jpegOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 90, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (a *realAPI) upload(t *testing.T, key string, w, h int) {
	t.Helper()
	data := jpegOf(t, w, h)
	info, err := a.store.Put(context.Background(), "imgate-original", key, bytes.NewReader(data), int64(len(data)), storage.PutOptions{ContentType: "image/jpeg"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.svc.Enqueue(context.Background(), info, "gateway"); err != nil {
		t.Fatal(err)
	}
}

// waitEvent reads the stream until a job event for key in state arrives.
func waitEvent(t *testing.T, events <-chan adminapi.Event, status <-chan client.StreamStatus, key, state string) adminapi.Event {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Job != nil && ev.Job.Key == key && ev.Job.State == state {
				return ev
			}
		case st := <-status:
			if !st.Connected {
				t.Logf("stream: %v", st.Err)
			}
		case <-timeout:
			t.Fatalf("no %s event for %s", state, key)
		}
	}
}

func TestHTTPClientAgainstRealAdminAPI(t *testing.T) {
	api := startRealAPI(t)
	c, err := client.NewHTTP(client.HTTPConfig{BaseURL: api.url, Token: adminToken, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Wrong token.
	bad, _ := client.NewHTTP(client.HTTPConfig{BaseURL: api.url, Token: "nope"})
	if _, err := bad.Stats(ctx); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("wrong token: %v", err)
	}

	// Live events of an upload.
	streamCtx, stopStream := context.WithCancel(ctx)
	events, status := c.Events(streamCtx, 0)
	if st := <-status; !st.Connected {
		t.Fatalf("stream did not connect: %v", st.Err)
	}
	api.upload(t, "a/one.jpg", 400, 300)
	done := waitEvent(t, events, status, "a/one.jpg", adminapi.StateCompleted)
	stopStream()
	for range events {
	}

	list, err := c.Jobs(ctx, client.JobFilter{Prefix: "a/", Limit: 10})
	if err != nil || len(list.Jobs) != 1 || list.Jobs[0].State != adminapi.StateCompleted {
		t.Fatalf("Jobs = %+v, %v", list, err)
	}
	j, err := c.Job(ctx, done.Job.ID)
	if err != nil || len(j.Variants) == 0 {
		t.Fatalf("Job = %+v, %v", j, err)
	}
	if _, err := c.Job(ctx, 999999); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("Job(missing) = %v", err)
	}

	// Resume: events that happen while disconnected arrive after reconnecting.
	api.upload(t, "a/two.jpg", 300, 400)
	events, status = c.Events(ctx, done.ID)
	waitEvent(t, events, status, "a/two.jpg", adminapi.StateCompleted)

	// Presets: validation, create with an escaped name, update, preview.
	v, err := c.ValidatePreset(ctx, adminapi.Preset{Geometry: "64y64"})
	if err != nil || v.Valid || v.Error == "" {
		t.Fatalf("validate 64y64 = %+v, %v", v, err)
	}
	var ae *client.APIError
	if _, err := c.CreatePreset(ctx, adminapi.Preset{Name: "bad", Geometry: "64y64"}); !errors.As(err, &ae) || ae.Status != 400 || ae.Message == "" {
		t.Fatalf("create 64y64 = %v", err)
	}
	pl, err := c.CreatePreset(ctx, adminapi.Preset{Name: "64x64^", Geometry: "64x64^"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdatePreset(ctx, "64x64^", adminapi.Preset{Name: "64x64^", Geometry: "64x64^", Quality: 90}); err != nil {
		t.Fatalf("update 64x64^: %v", err)
	}
	img, err := c.Preview(ctx, adminapi.PreviewRequest{Preset: adminapi.Preset{Name: "64x64^", Geometry: "64x64^"}})
	if err != nil || min(img.Bounds().Dx(), img.Bounds().Dy()) != 64 {
		t.Fatalf("preview = %v, %v", img, err)
	}

	// Backfill to completion.
	bf, err := c.StartBackfill(ctx, adminapi.BackfillRequest{Presets: []string{"64x64^"}})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(90 * time.Second); bf.State == "running"; {
		if time.Now().After(deadline) {
			t.Fatalf("backfill stuck: %+v", bf)
		}
		time.Sleep(100 * time.Millisecond)
		if bf, err = c.Backfill(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if bf.State != "done" || bf.Total != 2 || bf.Done != 2 {
		t.Fatalf("backfill = %+v", bf)
	}
	for _, k := range []string{"a/one.jpg", "a/two.jpg"} {
		if _, err := api.store.Stat(ctx, "imgate-resized", "64x64^/"+k); err != nil {
			t.Fatalf("variant 64x64^/%s: %v", k, err)
		}
	}
	if _, err := c.DeletePreset(ctx, "64x64^", true); err != nil {
		t.Fatalf("delete: %v", err)
	}
	after, err := c.Presets(ctx)
	if err != nil || after.Version <= pl.Version {
		t.Fatalf("presets after delete = %+v, %v", after, err)
	}
	st, err := c.Stats(ctx)
	if err != nil || st.Counts[adminapi.StateCompleted] < 2 {
		t.Fatalf("stats = %+v, %v", st, err)
	}
}
