package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/resizer"
)

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
