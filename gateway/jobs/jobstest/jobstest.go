// Package jobstest runs a real job service (fs storage, SQLite or the
// PostgreSQL of internal/testenv) for the tests of jobs and jobsapi.
package jobstest

import (
	"bytes"
	"cmp"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/jobs"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/storage/fs"
	"github.com/imgate/imgate/resizer"
)

// Env is a job service over a fresh fs storage.
type Env struct {
	Svc   *jobs.Service
	Store storage.Storage
	Dir   string
}

// Options configure New.
type Options struct {
	DatabaseURL string // "" → SQLite in the data directory
	DataDir     string // "" → a new temporary directory
	NoStart     bool   // open only: jobs stay queued
	Limits      resizer.Limits
	JobTimeout  time.Duration // 0 → 30 s
	MaxAttempts int           // 0 → 3
	NodeID      string        // jobs.Config.NodeID
	// Before runs between Open and Start (e.g. to set a test hook).
	Before func(*jobs.Service)
}

// New opens (and unless NoStart, starts) a service; it stops at cleanup.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	store, err := fs.New(filepath.Join(o.DataDir, "objects"))
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
		Storage:     store,
		Bucket:      "imgate",
		DatabaseURL: o.DatabaseURL,
		SQLitePath:  filepath.Join(o.DataDir, "jobs.db"),
		Resizer:     resizer.New(resizer.Options{Limits: o.Limits}),
		Workers:     2,
		JobTimeout:  cmp.Or(o.JobTimeout, 30*time.Second),
		MaxAttempts: cmp.Or(o.MaxAttempts, 3),
		NodeID:      o.NodeID,
		Logger:      Logger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{Svc: svc, Store: store, Dir: o.DataDir}
	if o.Before != nil {
		o.Before(svc)
	}
	if !o.NoStart {
		if err := svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = svc.Stop(ctx)
	})
	return e
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Logger logs warnings to the test log under -v.
func Logger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.DiscardHandler)
}

// JPEG returns a w×h JPEG with a gradient.
func JPEG(t testing.TB, w, h int) []byte {
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

// Put stores an original without any trigger.
func (e *Env) Put(t testing.TB, key string, data []byte) storage.ObjectInfo {
	t.Helper()
	info, err := e.Store.Put(context.Background(), "imgate-original", key, bytes.NewReader(data), int64(len(data)), storage.PutOptions{ContentType: "image/jpeg"})
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// Upload stores an original and enqueues it as the gateway would.
func (e *Env) Upload(t testing.TB, key string, data []byte) storage.ObjectInfo {
	t.Helper()
	info := e.Put(t, key, data)
	if err := e.Svc.Enqueue(context.Background(), info, "gateway"); err != nil {
		t.Fatal(err)
	}
	return info
}

// WaitKey waits until a job of key is in state want and returns it in full.
func (e *Env) WaitKey(t testing.TB, key string, want string) adminapi.Job {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		list, err := e.Svc.ListJobs(ctx, jobs.JobFilter{Prefix: key, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range list.Jobs {
			if j.Key == key && j.State == want {
				full, err := e.Svc.Job(ctx, j.ID)
				if err != nil {
					t.Fatal(err)
				}
				return full
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	list, _ := e.Svc.ListJobs(ctx, jobs.JobFilter{Prefix: key, Limit: 50})
	t.Fatalf("no %s job for %q within 60s; jobs: %+v", want, key, list.Jobs)
	return adminapi.Job{}
}

// Jobs lists up to 50 jobs, newest first.
func (e *Env) Jobs(t testing.TB) []adminapi.Job {
	t.Helper()
	list, err := e.Svc.ListJobs(context.Background(), jobs.JobFilter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	return list.Jobs
}

// DecodeSize returns the dimensions of an encoded image.
func DecodeSize(t testing.TB, data []byte) (int, int) {
	t.Helper()
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode variant: %v", err)
	}
	return cfg.Width, cfg.Height
}

// Variant reads the variant of key for preset.
func (e *Env) Variant(t testing.TB, preset, key string) ([]byte, storage.ObjectInfo, error) {
	t.Helper()
	rc, info, err := e.Store.Get(context.Background(), "imgate-resized", preset+"/"+key, storage.GetOptions{Length: -1})
	if err != nil {
		return nil, info, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	return data, info, err
}
