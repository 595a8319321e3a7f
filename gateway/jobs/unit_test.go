package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/resizer"
)

func TestPlaceholderRewrite(t *testing.T) {
	cases := []struct{ in, pg string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b = ?", "a = $1 AND b = $2"},
		{"INSERT INTO t VALUES (?, ?, ?)", "INSERT INTO t VALUES ($1, $2, $3)"},
	}
	for _, c := range cases {
		if got := (&db{dialect: dialectPostgres}).q(c.in); got != c.pg {
			t.Errorf("postgres %q → %q, want %q", c.in, got, c.pg)
		}
		if got := (&db{dialect: dialectSQLite}).q(c.in); got != c.in {
			t.Errorf("sqlite %q changed to %q", c.in, got)
		}
	}
}

func TestPercentiles(t *testing.T) {
	cases := []struct {
		in       []int64
		p50, p95 float64
	}{
		{nil, 0, 0},
		{[]int64{7}, 7, 7},
		{[]int64{5, 1, 3, 2, 4}, 3, 5},
		{[]int64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200}, 100, 190},
	}
	for _, c := range cases {
		d := percentiles(c.in)
		if d.P50 != c.p50 || d.P95 != c.p95 || d.N != int64(len(c.in)) {
			t.Errorf("%v → %+v, want p50 %v p95 %v", c.in, d, c.p50, c.p95)
		}
	}
}

func TestRetryPolicyBacksOffToThirtySeconds(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 6: 30 * time.Second, 12: 30 * time.Second} {
		row := &rivertype.JobRow{Errors: make([]rivertype.AttemptError, attempt-1)}
		got := time.Until(retryPolicy{}.NextRetry(row))
		if got < want-time.Second || got > want+want/4+time.Second {
			t.Errorf("attempt %d: next retry in %s, want about %s", attempt, got, want)
		}
	}
}

func TestPublicReason(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("read original: %w", storage.ErrUnavailable), "storage backend unavailable (will retry)"},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), "timed out (will retry)"},
		{&permanentError{msg: "original not found (deleted before it was processed)"}, "original not found (deleted before it was processed)"},
		{fmt.Errorf("resize: %w", &resizer.Error{Kind: resizer.KindCorrupt, Msg: "corrupt jpeg", Err: errors.New("/tmp/secret/path: EOF")}), "corrupt jpeg"},
		{&resizer.Error{Kind: resizer.KindTooLarge, Msg: "50000x50000"}, "too large: 50000x50000"},
		{&resizer.Error{Kind: resizer.KindCorrupt, Msg: "corrupt jpeg", Err: io.ErrUnexpectedEOF}, "corrupt jpeg (truncated: the data ends early)"},
		{errors.New("dial tcp 10.0.0.1:9000: secret internals"), "temporary error (will retry)"},
	}
	for _, c := range cases {
		if got := publicReason(c.err); got != c.want {
			t.Errorf("publicReason(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestEnqueueRefusesOtherBucketsAndBadKeys(t *testing.T) {
	e := newEnv(t, envOpts{noStart: true})
	ctx := context.Background()
	for _, obj := range []storage.ObjectInfo{
		{Bucket: "imgate-resized", Key: "150x/a.jpg", ETag: "e"},
		{Bucket: "other", Key: "a.jpg", ETag: "e"},
		{Bucket: "imgate-original", Key: "../a.jpg", ETag: "e"},
		{Bucket: "imgate-original", Key: "", ETag: "e"},
	} {
		if err := e.svc.Enqueue(ctx, obj, "gateway"); err == nil {
			t.Errorf("Enqueue(%+v) accepted", obj)
		}
	}
	if err := e.svc.Deleted(ctx, "imgate-resized", "150x/a.jpg"); err != nil {
		t.Errorf("Deleted of another bucket: %v", err)
	}
	list, _ := e.svc.listJobs(ctx, jobFilter{Limit: 10})
	if len(list.Jobs) != 0 {
		t.Fatalf("jobs created: %+v", list.Jobs)
	}
	if _, err := e.svc.stats(ctx); err != nil {
		t.Fatal(err)
	}
	var st adminapi.Stats
	if code := e.admin(t, "GET", "/v1/admin/stats", nil, &st); code != 200 || st.Counts == nil {
		t.Fatalf("stats on an empty store: %d %+v", code, st)
	}
}

func TestPresetVersionsTrackChangedPresetsOnly(t *testing.T) {
	e := newEnv(t, envOpts{noStart: true})
	ctx := context.Background()
	set, err := e.svc.presets.update(ctx, func(cur []resizer.Preset) ([]resizer.Preset, error) {
		cur[1].Quality = 70 // 150x changes
		return append(cur, resizer.Preset{Geometry: "300x300>"}), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	since := map[string]int64{}
	for _, p := range set.Presets {
		since[p.Name] = p.Since
	}
	if set.Version != 2 || since["50x50"] != 1 || since["x150"] != 1 || since["150x"] != 2 || since["300x300>"] != 2 {
		t.Fatalf("version %d since %v", set.Version, since)
	}
	old, err := e.svc.presets.load(ctx, 1)
	if err != nil || len(old.Presets) != 3 {
		t.Fatalf("version 1 kept: %+v %v", old, err)
	}
	// Invalid changes are refused and store nothing.
	if _, err := e.svc.presets.update(ctx, func(cur []resizer.Preset) ([]resizer.Preset, error) {
		return append(cur, resizer.Preset{Geometry: "nope"}), nil
	}); err == nil {
		t.Fatal("invalid preset stored")
	}
	if cur, _ := e.svc.presets.load(ctx, 0); cur.Version != 2 {
		t.Fatalf("version after refused change: %d", cur.Version)
	}
}
