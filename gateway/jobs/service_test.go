package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/jobs"
	"github.com/imgate/imgate/gateway/jobs/jobstest"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/resizer"
)

func TestPipelineRendersEveryPresetWithMetadata(t *testing.T) {
	e := jobstest.New(t, jobstest.Options{})
	info := e.Upload(t, "photos/a b.jpg", jobstest.JPEG(t, 400, 300))
	job := e.WaitKey(t, "photos/a b.jpg", adminapi.StateCompleted)
	if len(job.Variants) != 3 {
		t.Fatalf("variants = %+v", job.Variants)
	}
	want := map[string][2]int{"50x50": {50, 38}, "150x": {150, 113}, "x150": {200, 150}}
	for preset, wh := range want {
		data, vinfo, err := e.Variant(t, preset, "photos/a b.jpg")
		if err != nil {
			t.Fatalf("%s: %v", preset, err)
		}
		w, h := jobstest.DecodeSize(t, data)
		if w != wh[0] || h != wh[1] {
			t.Errorf("%s: %dx%d, want %dx%d", preset, w, h, wh[0], wh[1])
		}
		if vinfo.ContentType != "image/jpeg" || vinfo.CacheControl != jobs.DefaultCacheControl {
			t.Errorf("%s: content type %q cache-control %q", preset, vinfo.ContentType, vinfo.CacheControl)
		}
		if vinfo.Metadata["imgate-source-etag"] != info.ETag || vinfo.Metadata["imgate-preset-version"] != "1" {
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
	e := jobstest.New(t, jobstest.Options{NoStart: true})
	info := e.Put(t, "dup.jpg", jobstest.JPEG(t, 200, 100))
	ctx := context.Background()
	for _, src := range []string{"gateway", "webhook", "reconcile", "gateway"} {
		if err := e.Svc.Enqueue(ctx, info, src); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := e.Svc.Reconcile(ctx); err != nil || res.Enqueued != 0 {
		t.Fatalf("reconcile = %+v, %v; want nothing new enqueued", res, err)
	}
	list, err := e.Svc.ListJobs(ctx, jobs.JobFilter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Jobs) != 1 || list.Jobs[0].Source != "gateway" {
		t.Fatalf("jobs = %+v, want exactly one (from the first trigger)", list.Jobs)
	}
	if err := e.Svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e.WaitKey(t, "dup.jpg", adminapi.StateCompleted)
	// After completion, the same trigger again is still the same job.
	if err := e.Svc.Enqueue(ctx, info, "webhook"); err != nil {
		t.Fatal(err)
	}
	list, _ = e.Svc.ListJobs(ctx, jobs.JobFilter{Limit: 50})
	if len(list.Jobs) != 1 {
		t.Fatalf("jobs after re-trigger = %d, want 1", len(list.Jobs))
	}
}

func TestPermanentFailuresFailAtOnceWithReason(t *testing.T) {
	e := jobstest.New(t, jobstest.Options{Limits: resizer.Limits{MaxPixels: 1_000_000, MaxBytes: 256 << 10}})
	// A small JPEG with 300 KiB after its end: the object's size is over
	// the byte limit, so it is refused unread.
	long := append(jobstest.JPEG(t, 100, 100), make([]byte, 300<<10)...)
	cases := []struct {
		key, want string
		data      []byte
	}{
		{"text.jpg", "not an image", []byte("hello, this is plain text and not a picture at all")},
		{"trunc.jpg", "", jobstest.JPEG(t, 300, 300)[:600]},
		{"huge.jpg", "", jobstest.JPEG(t, 1200, 1000)},
		{"long.jpg", fmt.Sprintf("%d bytes, the limit is %d", len(long), 256<<10), long},
	}
	for _, c := range cases {
		e.Upload(t, c.key, c.data)
	}
	for _, c := range cases {
		j := e.WaitKey(t, c.key, adminapi.StateFailed)
		if j.Attempt != 1 || j.Error == "" || len(j.Errors) != 1 {
			t.Errorf("%s: attempt %d error %q history %v; want one attempt with a reason", c.key, j.Attempt, j.Error, j.Errors)
		}
		if c.want != "" && !strings.Contains(j.Error, c.want) {
			t.Errorf("%s: error %q does not name %q", c.key, j.Error, c.want)
		}
		t.Logf("%s: %s", c.key, j.Error)
	}
	// The next good upload is processed.
	e.Upload(t, "good.jpg", jobstest.JPEG(t, 100, 100))
	e.WaitKey(t, "good.jpg", adminapi.StateCompleted)
}

func TestPanicFailsOneJob(t *testing.T) {
	e := jobstest.New(t, jobstest.Options{NoStart: true})
	jobs.SetTestHookResize(e.Svc, func(key string) {
		if key == "boom.jpg" {
			panic("synthetic panic in the pipeline")
		}
	})
	if err := e.Svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.Upload(t, "boom.jpg", jobstest.JPEG(t, 100, 100))
	j := e.WaitKey(t, "boom.jpg", adminapi.StateFailed)
	if !strings.Contains(j.Error, "internal error") || strings.Contains(j.Error, "synthetic") {
		t.Errorf("error %q: want the public internal-error text only", j.Error)
	}
	e.Upload(t, "fine.jpg", jobstest.JPEG(t, 100, 100))
	e.WaitKey(t, "fine.jpg", adminapi.StateCompleted)
}

func TestDeletedRemovesVariantsAndForgetsJob(t *testing.T) {
	e := jobstest.New(t, jobstest.Options{})
	data := jobstest.JPEG(t, 300, 200)
	e.Upload(t, "d/x.jpg", data)
	e.WaitKey(t, "d/x.jpg", adminapi.StateCompleted)
	ctx := context.Background()
	if err := e.Store.Delete(ctx, "imgate-original", "d/x.jpg"); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.Deleted(ctx, "imgate-original", "d/x.jpg"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"50x50", "150x", "x150"} {
		if _, _, err := e.Variant(t, p, "d/x.jpg"); err == nil {
			t.Errorf("%s variant still exists", p)
		}
	}
	// Re-uploading identical bytes renders again.
	e.Upload(t, "d/x.jpg", data)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, _, err := e.Variant(t, "150x", "d/x.jpg"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("re-upload after delete was not processed")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestReconcileFindsMissingAndStale(t *testing.T) {
	e := jobstest.New(t, jobstest.Options{})
	ctx := context.Background()
	e.Put(t, "direct.jpg", jobstest.JPEG(t, 200, 200)) // no trigger: as if PUT straight to the backend
	res, err := e.Svc.Reconcile(ctx)
	if err != nil || res.Scanned != 1 || res.Enqueued != 1 {
		t.Fatalf("reconcile = %+v, %v", res, err)
	}
	e.WaitKey(t, "direct.jpg", adminapi.StateCompleted)
	if res, _ := e.Svc.Reconcile(ctx); res.Enqueued != 0 {
		t.Fatalf("second reconcile enqueued %d, want 0", res.Enqueued)
	}
	// A variant deleted behind our back is repaired.
	if err := e.Store.Delete(ctx, "imgate-resized", "x150/direct.jpg"); err != nil {
		t.Fatal(err)
	}
	if res, _ := e.Svc.Reconcile(ctx); res.Enqueued != 1 {
		t.Fatalf("reconcile after variant loss enqueued %d, want 1", res.Enqueued)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, _, err := e.Variant(t, "x150", "direct.jpg"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("lost variant not repaired")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Replacing the original makes its variants stale.
	e.Put(t, "direct.jpg", jobstest.JPEG(t, 100, 300))
	if res, _ := e.Svc.Reconcile(ctx); res.Enqueued != 1 {
		t.Fatalf("reconcile after new content enqueued %d, want 1", res.Enqueued)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		data, _, err := e.Variant(t, "x150", "direct.jpg")
		if err == nil {
			if w, h := jobstest.DecodeSize(t, data); w == 50 && h == 150 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("stale variant not re-rendered")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBackfillResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	e := jobstest.New(t, jobstest.Options{DataDir: dir, NoStart: true})
	for i := range 3 {
		e.Put(t, fmt.Sprintf("r/%d.jpg", i), jobstest.JPEG(t, 120, 90))
	}
	// Start a backfill on a service that never runs it (as if it crashed right after).
	if _, err := e.Svc.StartBackfill(context.Background(), adminapi.BackfillRequest{}); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	e2 := jobstest.New(t, jobstest.Options{DataDir: dir})
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, err := e2.Svc.Backfill(context.Background())
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

func TestEventLogKeepsTheNewest(t *testing.T) {
	e := jobstest.New(t, jobstest.Options{NoStart: true})
	jobs.SetEventRetention(e.Svc, 5)
	ctx := context.Background()
	for range 12 {
		jobs.AppendEvent(ctx, e.Svc, adminapi.Event{Type: "backfill.progress", Backfill: &adminapi.Backfill{}})
	}
	jobs.PruneEvents(ctx, e.Svc)
	evs, err := e.Svc.EventsAfter(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 5 || evs[0].ID != 8 || evs[4].ID != 12 {
		t.Fatalf("kept %d events from %d, want ids 8..12", len(evs), evs[0].ID)
	}
}

func TestDeletedCancelsWaitingJobs(t *testing.T) {
	e := jobstest.New(t, jobstest.Options{NoStart: true})
	ctx := context.Background()
	data := jobstest.JPEG(t, 100, 100)
	e.Upload(t, "w.jpg", data)
	queued := e.WaitKey(t, "w.jpg", adminapi.StateQueued)
	if err := e.Store.Delete(ctx, "imgate-original", "w.jpg"); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.Deleted(ctx, "imgate-original", "w.jpg"); err != nil {
		t.Fatal(err)
	}
	j, err := e.Svc.Job(ctx, queued.ID)
	if err != nil || j.State != adminapi.StateCancelled {
		t.Fatalf("job after delete: %+v %v", j, err)
	}
	// Uploading the same bytes again is a new job that runs.
	if err := e.Svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e.Upload(t, "w.jpg", data)
	done := e.WaitKey(t, "w.jpg", adminapi.StateCompleted)
	if done.ID == queued.ID {
		t.Fatal("the cancelled job was reused")
	}
}

func TestEnqueueRefusesOtherBucketsAndBadKeys(t *testing.T) {
	e := jobstest.New(t, jobstest.Options{NoStart: true})
	ctx := context.Background()
	for _, obj := range []storage.ObjectInfo{
		{Bucket: "imgate-resized", Key: "150x/a.jpg", ETag: "e"},
		{Bucket: "other", Key: "a.jpg", ETag: "e"},
		{Bucket: "imgate-original", Key: "../a.jpg", ETag: "e"},
		{Bucket: "imgate-original", Key: "", ETag: "e"},
	} {
		if err := e.Svc.Enqueue(ctx, obj, "gateway"); err == nil {
			t.Errorf("Enqueue(%+v) accepted", obj)
		}
	}
	if err := e.Svc.Deleted(ctx, "imgate-resized", "150x/a.jpg"); err != nil {
		t.Errorf("Deleted of another bucket: %v", err)
	}
	if jl := e.Jobs(t); len(jl) != 0 {
		t.Fatalf("jobs created: %+v", jl)
	}
	if st, err := e.Svc.Stats(ctx); err != nil || st.Counts == nil {
		t.Fatalf("stats on an empty store: %+v %v", st, err)
	}
}

// TestDeadlineTwiceIsPermanent: an attempt that hits the job deadline is
// retried once; the second timeout on the same bytes ends the job with the
// reason in its errors, however many attempts remain. A normal image is not
// held up.
func TestDeadlineTwiceIsPermanent(t *testing.T) {
	e := jobstest.New(t, jobstest.Options{JobTimeout: time.Second, MaxAttempts: 10, Before: func(s *jobs.Service) {
		jobs.SetTestHookResize(s, func(key string) {
			if strings.HasPrefix(key, "slow/") {
				time.Sleep(1200 * time.Millisecond) // past the deadline: Resize sees it expired
			}
		})
	}})
	e.Upload(t, "slow/a.jpg", jobstest.JPEG(t, 300, 200))
	e.Upload(t, "fine/b.jpg", jobstest.JPEG(t, 300, 200))
	e.WaitKey(t, "fine/b.jpg", adminapi.StateCompleted)
	j := e.WaitKey(t, "slow/a.jpg", adminapi.StateFailed)
	if j.Attempt != 2 || len(j.Errors) != 2 {
		t.Fatalf("attempts %d, errors %+v; want 2 attempts", j.Attempt, j.Errors)
	}
	if want := "timed out (job timeout 1s), will retry once"; j.Errors[0].Error != want {
		t.Errorf("first error %q, want %q", j.Errors[0].Error, want)
	}
	if want := "timed out twice (job timeout 1s)"; j.Error != want || j.Errors[1].Error != want {
		t.Errorf("final error %q / %q, want %q", j.Error, j.Errors[1].Error, want)
	}
}
