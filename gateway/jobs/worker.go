package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/resizer"
)

// resizeArgs are the arguments of a resize job. The fields tagged
// river:"unique" are its identity: duplicate triggers collapse into one job.
type resizeArgs struct {
	Bucket        string   `json:"bucket" river:"unique"`
	Key           string   `json:"key" river:"unique"`
	ETag          string   `json:"etag" river:"unique"`
	PresetVersion int64    `json:"preset_version" river:"unique"`
	Presets       []string `json:"presets,omitempty" river:"unique"` // empty = all presets of the version
	Source        string   `json:"source"`
	BackfillID    int64    `json:"backfill_id,omitempty"`
}

func (resizeArgs) Kind() string { return jobKind }

// uniqueStates are all job states: a finished job (completed or failed) still
// blocks a duplicate of itself; Deleted forgets finished jobs so re-uploads
// of identical bytes run again, and operators retry failed jobs explicitly.
var uniqueStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted,
	rivertype.JobStateDiscarded, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

func (resizeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: uniqueStates}}
}

type resizeWorker struct {
	river.WorkerDefaults[resizeArgs]
	s *Service
}

// permanentError fails a job at once with a public reason.
type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

func (w *resizeWorker) Work(ctx context.Context, job *river.Job[resizeArgs]) error {
	s := w.s
	start := time.Now()
	s.markRunning(ctx, job.JobRow, job.Args)
	variants, bytesIn, err := s.process(ctx, job.Args)
	dur := time.Since(start)
	if err == nil {
		s.recordCompleted(ctx, job.JobRow, job.Args, variants, bytesIn, dur)
		return nil
	}
	public := publicReason(err)
	var perm *permanentError
	permanent := errors.As(err, &perm) || resizer.IsPermanent(err)
	switch {
	case permanent:
		s.log.InfoContext(ctx, "job failed", "job", job.ID, "key", job.Args.Key, "reason", public)
		s.recordFailure(ctx, job.JobRow, job.Args, adminapi.StateFailed, public, dur)
		return river.JobCancel(errors.New(public))
	case job.Attempt >= job.MaxAttempts:
		s.log.WarnContext(ctx, "job failed after retries", "job", job.ID, "key", job.Args.Key, "attempts", job.Attempt, "err", err)
		s.recordFailure(ctx, job.JobRow, job.Args, adminapi.StateFailed, public, dur)
	default:
		s.log.InfoContext(ctx, "job will retry", "job", job.ID, "key", job.Args.Key, "attempt", job.Attempt, "err", err)
		s.recordFailure(ctx, job.JobRow, job.Args, adminapi.StateRetrying, public, dur)
	}
	return fmt.Errorf("%s: %w", public, err)
}

// process renders and stores the variants of one original.
func (s *Service) process(ctx context.Context, args resizeArgs) ([]adminapi.VariantOK, int64, error) {
	set, err := s.presets.load(ctx, args.PresetVersion)
	if err != nil {
		return nil, 0, fmt.Errorf("load preset version %d: %w", args.PresetVersion, err)
	}
	var stored []storedPreset
	if len(args.Presets) == 0 {
		stored = set.Presets
	} else {
		for _, name := range args.Presets {
			if sp, ok := set.get(name); ok {
				stored = append(stored, sp)
			}
		}
	}
	if len(stored) == 0 {
		return nil, 0, nil
	}
	presets := make([]resizer.Preset, len(stored))
	for i, sp := range stored {
		presets[i] = sp.Preset
	}

	rc, info, err := s.cfg.Storage.Get(ctx, args.Bucket, args.Key, storage.GetOptions{Length: -1})
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrBucketNotFound) {
			return nil, 0, &permanentError{msg: "original not found (deleted before it was processed)"}
		}
		return nil, 0, fmt.Errorf("read original: %w", err)
	}
	defer rc.Close()
	// Refuse an original over the resizer's byte limit before reading any of
	// it: the resizer holds the encoded source in memory.
	if limit := s.cfg.Resizer.Limits().MaxBytes; info.Size > limit {
		return nil, 0, &permanentError{msg: fmt.Sprintf("image too large: %d bytes, the limit is %d (--max-source-bytes)", info.Size, limit)}
	}
	counter := &countingReader{r: rc}
	if s.testHookResize != nil {
		s.testHookResize(args.Key)
	}
	resizeStart := time.Now()
	_, variants, err := s.cfg.Resizer.Resize(ctx, counter, presets)
	resizeDur := time.Since(resizeStart)
	s.metrics.bytesIn.Add(float64(counter.n))
	if err != nil {
		return nil, counter.n, fmt.Errorf("resize: %w", err)
	}
	etag := normETag(info.ETag)
	if etag == "" {
		etag = args.ETag
	}
	perVariant := resizeDur / time.Duration(max(len(variants), 1))
	out := make([]adminapi.VariantOK, 0, len(variants))
	for _, v := range variants {
		sp, _ := set.get(v.Preset)
		putStart := time.Now()
		vkey := v.Preset + "/" + args.Key
		_, err := s.cfg.Storage.Put(ctx, s.resized, vkey, bytes.NewReader(v.Data), int64(len(v.Data)), storage.PutOptions{
			ContentType:  v.ContentType,
			CacheControl: s.cfg.CacheControl,
			Metadata: map[string]string{
				metaSourceETag:    etag,
				metaPresetVersion: strconv.FormatInt(sp.Since, 10),
				metaPreset:        v.Preset,
			},
		})
		if err != nil {
			return nil, counter.n, fmt.Errorf("write variant %s: %w", vkey, err)
		}
		ms := (perVariant + time.Since(putStart)).Milliseconds()
		s.metrics.presetDur.WithLabelValues(v.Preset).Observe((perVariant + time.Since(putStart)).Seconds())
		s.metrics.bytesOut.Add(float64(len(v.Data)))
		out = append(out, adminapi.VariantOK{
			Preset: v.Preset, Key: vkey, Width: v.Width, Height: v.Height,
			Bytes: int64(len(v.Data)), MS: ms,
		})
	}
	// The original may have been deleted while we worked: do not leave orphans.
	if _, err := s.cfg.Storage.Stat(ctx, args.Bucket, args.Key); errors.Is(err, storage.ErrNotFound) {
		for _, v := range out {
			_ = s.cfg.Storage.Delete(ctx, s.resized, v.Key)
		}
		return nil, counter.n, &permanentError{msg: "original deleted while it was processed"}
	}
	return out, counter.n, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// publicReason is the text users see for a failed attempt: never internal paths or credentials.
func publicReason(err error) string {
	var perm *permanentError
	if errors.As(err, &perm) {
		return perm.msg
	}
	var re *resizer.Error
	if errors.As(err, &re) {
		kind := re.Kind.String()
		msg := re.Public()
		if (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)) && !containsAny(strings.ToLower(msg), "truncat") {
			msg += " (truncated: the data ends early)"
		}
		if msg == "" {
			return kind
		}
		if !containsAny(msg, kind) {
			return kind + ": " + msg
		}
		return msg
	}
	var ne net.Error
	switch {
	case errors.Is(err, storage.ErrUnavailable):
		return "storage backend unavailable (will retry)"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out (will retry)"
	case errors.Is(err, context.Canceled):
		return "interrupted (will retry)"
	case errors.As(err, &ne):
		return "network error talking to storage (will retry)"
	}
	return "temporary error (will retry)"
}

// retryPolicy retries quickly at first and backs off to 30 s, with jitter.
type retryPolicy struct{}

func (retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	attempt := max(len(job.Errors)+1, 1)
	d := time.Duration(math.Min(math.Pow(2, float64(attempt-1)), 30) * float64(time.Second))
	d += time.Duration(rand.Int64N(int64(d/4) + 1))
	return time.Now().Add(d)
}

// errorHandler turns a panic in one image into a failed job.
type errorHandler struct{ s *Service }

func (h *errorHandler) HandleError(context.Context, *rivertype.JobRow, error) *river.ErrorHandlerResult {
	return nil
}

func (h *errorHandler) HandlePanic(ctx context.Context, row *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	h.s.log.ErrorContext(ctx, "panic in resize job", "job", row.ID, "panic", fmt.Sprint(panicVal), "trace", trace)
	var args resizeArgs
	if err := decodeArgs(row, &args); err == nil {
		h.s.recordFailure(ctx, row, args, adminapi.StateFailed, "internal error while processing the image", 0)
	}
	return &river.ErrorHandlerResult{SetCancelled: true}
}
