package jobs_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/jobs/jobstest"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/resizer"
)

// TestSiblingsStoredReconciledDeleted: a preset with formats gets WebP and
// AVIF siblings at PRESET.FORMAT/KEY (recorded in the job), reconcile sees a
// missing sibling, and deleting the original deletes them.
func TestSiblingsStoredReconciledDeleted(t *testing.T) {
	e := jobstest.New(t, jobstest.Options{NoStart: true})
	ctx := context.Background()
	if _, err := e.Svc.Presets().Replace(ctx, "150x", resizer.Preset{Geometry: "150x", Formats: []string{"avif", "webp"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	key := "p/sib.jpg"
	e.Upload(t, key, jobstest.JPEG(t, 300, 200))
	job := e.WaitKey(t, key, adminapi.StateCompleted)
	var formats []string
	for _, v := range job.Variants {
		if v.Preset == "150x" {
			formats = append(formats, v.Format)
		}
	}
	slices.Sort(formats)
	if !slices.Equal(formats, []string{"", "avif", "webp"}) {
		t.Fatalf("150x variants %v, want jpeg + avif + webp; job %+v", formats, job.Variants)
	}
	for _, f := range []string{"avif", "webp"} {
		data, info, err := e.Variant(t, "150x."+f, key)
		if err != nil {
			t.Fatalf("%s sibling: %v", f, err)
		}
		if info.ContentType != "image/"+f {
			t.Errorf("%s sibling content type %q", f, info.ContentType)
		}
		if w, h := jobstest.DecodeSize(t, data); w != 150 || h != 100 {
			t.Errorf("%s sibling %dx%d", f, w, h)
		}
	}
	// A vanished sibling makes the original stale for reconcile.
	if err := e.Store.Delete(ctx, "imgate-resized", resizer.SiblingKey("150x", "avif", key)); err != nil {
		t.Fatal(err)
	}
	if res, err := e.Svc.Reconcile(ctx); err != nil || res.Enqueued != 1 {
		t.Fatalf("reconcile = %+v, %v; want the original enqueued again", res, err)
	}
	if err := e.Store.Delete(ctx, "imgate-original", key); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.Deleted(ctx, "imgate-original", key); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"150x/" + key, "150x.webp/" + key, "150x.avif/" + key} {
		if _, err := e.Store.Stat(ctx, "imgate-resized", k); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s after delete: %v, want not found", k, err)
		}
	}
}
