package jobs_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/jobs/jobstest"
	"github.com/imgate/imgate/gateway/storage"
)

// TestRenderMissing: a variant asked for while its job waits in the queue is
// rendered on the spot (concurrent asks all succeed), the job then renders
// only the other presets; unknown presets and missing originals are
// storage.ErrNotFound.
func TestRenderMissing(t *testing.T) {
	e := jobstest.New(t, jobstest.Options{NoStart: true})
	ctx := context.Background()
	e.Upload(t, "lazy/a.jpg", jobstest.JPEG(t, 300, 200))
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = e.Svc.RenderMissing(ctx, "150x", "lazy/a.jpg")
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	data, _, err := e.Variant(t, "150x", "lazy/a.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if w, h := jobstest.DecodeSize(t, data); w != 150 || h != 100 {
		t.Errorf("lazy variant %dx%d", w, h)
	}
	for _, c := range [][2]string{{"nope", "lazy/a.jpg"}, {"150x", "lazy/missing.jpg"}} {
		if err := e.Svc.RenderMissing(ctx, c[0], c[1]); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%v: %v, want ErrNotFound", c, err)
		}
	}
	if err := e.Svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	job := e.WaitKey(t, "lazy/a.jpg", adminapi.StateCompleted)
	for _, v := range job.Variants {
		if v.Preset == "150x" {
			t.Errorf("the job rendered 150x again: %+v", job.Variants)
		}
	}
	if len(job.Variants) != 2 {
		t.Errorf("job variants %+v, want the two others", job.Variants)
	}
}
