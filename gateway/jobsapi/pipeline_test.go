package jobsapi

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/jobs/jobstest"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/internal/testenv"
)

func TestBackfillRendersNewPresetWithProgress(t *testing.T) {
	e := newEnv(t, jobstest.Options{})
	for i := range 5 {
		e.Upload(t, fmt.Sprintf("bf/%d.jpg", i), jobstest.JPEG(t, 160+i, 120))
	}
	for i := range 5 {
		e.WaitKey(t, fmt.Sprintf("bf/%d.jpg", i), adminapi.StateCompleted)
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
		data, _, err := e.Variant(t, "64x64^", fmt.Sprintf("bf/%d.jpg", i))
		if err != nil {
			t.Fatal(err)
		}
		if w, h := jobstest.DecodeSize(t, data); w != 64 || h != 64 {
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
		for _, err := range e.Store.List(context.Background(), "imgate-resized", storage.ListOptions{Prefix: "64x64^/"}) {
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

func TestPostgresPipeline(t *testing.T) {
	dsn := testenv.Postgres(t)
	e := newEnv(t, jobstest.Options{DatabaseURL: dsn})
	e.Upload(t, "pg/a.jpg", jobstest.JPEG(t, 300, 300))
	j := e.WaitKey(t, "pg/a.jpg", adminapi.StateCompleted)
	if len(j.Variants) != 3 {
		t.Fatalf("variants %+v", j.Variants)
	}
	// Two services on one database share one queue and one preset store.
	e2 := newEnv(t, jobstest.Options{DatabaseURL: dsn})
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
