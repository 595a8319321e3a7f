package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
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
	e := startWithSiblings(t)
	ctx := context.Background()
	key := "p/sib.jpg"
	e.Upload(t, key, jobstest.JPEG(t, 300, 200))
	job := e.WaitKey(t, key, adminapi.StateCompleted)
	formats := formatsOf(job, "150x")
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

// TestAnimatedSiblings: an animated GIF original gets its animated GIF
// primary and an animated WebP sibling but no AVIF one, and reconcile does
// not take the missing AVIF for a stale variant.
func TestAnimatedSiblings(t *testing.T) {
	e := startWithSiblings(t)
	ctx := context.Background()
	pal := color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}}
	g := &gif.GIF{Delay: []int{10, 20}}
	for i := range 2 {
		m := image.NewPaletted(image.Rect(0, 0, 300, 200), pal)
		for j := range m.Pix {
			m.Pix[j] = uint8(i)
		}
		g.Image = append(g.Image, m)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	key := "p/anim.gif"
	e.Upload(t, key, buf.Bytes())
	job := e.WaitKey(t, key, adminapi.StateCompleted)
	formats := formatsOf(job, "150x")
	if !slices.Equal(formats, []string{"", "webp"}) {
		t.Fatalf("150x variants %v, want the GIF and a WebP sibling only", formats)
	}
	data, _, err := e.Variant(t, "150x.webp", key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data[:64], []byte("ANIM")) {
		t.Error("the WebP sibling is not animated")
	}
	if res, err := e.Svc.Reconcile(ctx); err != nil || res.Enqueued != 0 {
		t.Fatalf("reconcile = %+v, %v; want nothing enqueued (animations have no AVIF sibling)", res, err)
	}
}

// startWithSiblings starts a job service whose 150x preset has AVIF and
// WebP siblings.
func startWithSiblings(t *testing.T) *jobstest.Env {
	t.Helper()
	e := jobstest.New(t, jobstest.Options{NoStart: true})
	ctx := context.Background()
	if _, err := e.Svc.Presets().Replace(ctx, "150x", resizer.Preset{Geometry: "150x", Formats: []string{"avif", "webp"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

// formatsOf lists, sorted, the formats of a job's variants of preset
// ("" for the primary).
func formatsOf(job adminapi.Job, preset string) []string {
	var formats []string
	for _, v := range job.Variants {
		if v.Preset == preset {
			formats = append(formats, v.Format)
		}
	}
	slices.Sort(formats)
	return formats
}
