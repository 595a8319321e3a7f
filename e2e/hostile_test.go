package e2e

// Hostile images against the real binary (issue 9 item 2): crafted files
// that cost minutes of CPU or hundreds of MB without bounds are refused
// from their header or finish within the job deadline, the server's peak
// RSS stays small, and a normal image uploaded after them is not delayed.

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/internal/hostile"
	"github.com/imgate/imgate/resizer"
)

func TestHostileImagesBounded(t *testing.T) {
	const jobTimeout = 5 * time.Second
	srv := startServe(t, serveOptions{Args: []string{"--workers", "2", "--job-timeout", jobTimeout.String()}})
	cl := jobsClient(t, srv)
	ctx := context.Background()
	put := func(key string, data []byte, ct string) {
		t.Helper()
		if _, err := cl.PutObject(ctx, srv.Original(), key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{ContentType: ct}); err != nil {
			t.Fatalf("upload %s: %v", key, err)
		}
	}
	files := hostile.Files()
	byKey := map[string]hostile.File{}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("..", "internal", "hostile", "testdata", f.Name))
		if err != nil {
			t.Fatal(err)
		}
		key := "hostile/" + f.Name
		byKey[key] = f
		put(key, data, "application/octet-stream")
	}

	// A normal photo after the ten hostile ones gets its variants in 5 s.
	photo, err := os.ReadFile(filepath.Join("..", "resizer", "testdata", "photo.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(photo))
	if err != nil {
		t.Fatal(err)
	}
	var wants []want
	for _, g := range classicPresets {
		geo, err := resizer.ParseGeometry(g)
		if err != nil {
			t.Fatal(err)
		}
		w, h := geo.Size(cfg.Width, cfg.Height)
		wants = append(wants, want{Preset: g, Key: "normal/photo.jpg", W: w, H: h})
	}
	put("normal/photo.jpg", photo, "image/jpeg")
	took := waitStored(t, srv, wants, 5*time.Second)
	t.Logf("normal image after 10 hostile ones: variants in %s", took.Round(time.Millisecond))

	// Every hostile job ends (completed, or failed for good from its
	// header) and no attempt outlived the deadline by more than a second.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		done := 0
		jobs := allJobs(t, srv, "")
		for _, j := range jobs {
			if _, ok := byKey[j.Key]; ok && (j.State == adminapi.StateCompleted || j.State == adminapi.StateFailed) {
				done++
			}
		}
		if done == len(files) {
			checkHostileJobs(t, jobs, byKey, jobTimeout)
			break
		}
		if time.Now().After(deadline) {
			for _, j := range jobs {
				t.Logf("job %s: %s attempt %d %s", j.Key, j.State, j.Attempt, j.Error)
			}
			t.Fatalf("%d of %d hostile jobs ended after 2 minutes", done, len(files))
		}
		time.Sleep(200 * time.Millisecond)
	}
	hwm := srv.VmHWM(t)
	t.Logf("server peak RSS (VmHWM): %.1f MB", float64(hwm)/(1<<20))
	if hwm > 200<<20 {
		t.Errorf("server peak RSS %.1f MB, want ≤ 200 MB", float64(hwm)/(1<<20))
	}
}

func checkHostileJobs(t *testing.T, jobs []adminapi.Job, byKey map[string]hostile.File, jobTimeout time.Duration) {
	t.Helper()
	for _, j := range jobs {
		f, ok := byKey[j.Key]
		if !ok {
			continue
		}
		t.Logf("%-15s %-9s attempt %d, %5d ms: %s", f.Name, j.State, j.Attempt, j.DurationMS, j.Error)
		if limit := (jobTimeout + time.Second).Milliseconds(); j.DurationMS > limit {
			t.Errorf("%s: an attempt took %d ms, over the deadline + 1 s (%d ms)", f.Name, j.DurationMS, limit)
		}
		switch {
		case f.Refused && j.State != adminapi.StateFailed:
			t.Errorf("%s (%s): %s, want failed from its header", f.Name, f.Why, j.State)
		case f.Refused && (j.Attempt != 1 || !strings.Contains(j.Error, "refused before decoding") && !strings.Contains(j.Error, "limit")):
			t.Errorf("%s: attempt %d, error %q: want one attempt and the limit named", f.Name, j.Attempt, j.Error)
		case !f.Refused && j.State != adminapi.StateCompleted:
			t.Errorf("%s (%s): %s %q, want completed", f.Name, f.Why, j.State, j.Error)
		}
	}
}

// TestHostileDeadline: a valid image that costs more than the job deadline
// (big.png: 49 MP streamed, over a second of CPU) is cut at the deadline by
// the decoder itself, each attempt ends within deadline + 1 s, and the
// second timeout on the same bytes ends the job with the reason shown.
func TestHostileDeadline(t *testing.T) {
	const jobTimeout = 250 * time.Millisecond
	srv := startServe(t, serveOptions{Args: []string{"--workers", "2", "--job-timeout", jobTimeout.String()}})
	data, err := os.ReadFile(filepath.Join("..", "internal", "hostile", "testdata", "big.png"))
	if err != nil {
		t.Fatal(err)
	}
	cl := jobsClient(t, srv)
	if _, err := cl.PutObject(context.Background(), srv.Original(), "slow/big.png", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	last := ""
	for {
		var job *adminapi.Job
		for _, j := range allJobs(t, srv, "") {
			if j.Key == "slow/big.png" {
				job = &j
			}
		}
		if job != nil {
			if now := fmt.Sprintf("%s attempt %d, last %d ms: %s", job.State, job.Attempt, job.DurationMS, job.Error); now != last {
				t.Logf("big.png: %s", now)
				last = now
			}
			if limit := (jobTimeout + time.Second).Milliseconds(); job.DurationMS > limit {
				t.Fatalf("an attempt took %d ms, over the deadline + 1 s (%d ms)", job.DurationMS, limit)
			}
			if job.State == adminapi.StateCompleted {
				t.Fatalf("big.png completed within %s: the test needs a slower file", jobTimeout)
			}
			if job.State == adminapi.StateFailed {
				if job.Attempt > 2 || !strings.Contains(job.Error, "timed out") {
					t.Fatalf("failed after %d attempts with %q, want ≤ 2 and the timeout named", job.Attempt, job.Error)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("big.png's job did not end within a minute: %+v", job)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
