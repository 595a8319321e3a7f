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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/presets"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/resizer"
)

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
	s.markRunning(ctx, job.JobRow)
	variants, rm, bytesIn, err := s.process(ctx, job.Args)
	dur := time.Since(start)
	if err == nil {
		return s.completed(ctx, job, variants, rm, bytesIn, dur)
	}
	public := publicReason(err)
	var perm *permanentError
	permanent := errors.As(err, &perm) || resizer.IsPermanent(err)
	if !permanent && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		// The job's deadline, not a request's: the same bytes get one more
		// try (a busy machine may have been slow), never a third.
		public = s.timeoutReason(job.JobRow)
		permanent = permanent || strings.HasPrefix(public, timedOutTwice)
	}
	switch {
	case permanent:
		s.log.InfoContext(ctx, "job failed", "job", job.ID, "key", job.Args.Key, "reason", public)
		s.recordFailure(ctx, job.JobRow, true, public, dur)
		s.failedForGood(ctx, job, public)
		return river.JobCancel(errors.New(public))
	case job.Attempt >= job.MaxAttempts:
		s.log.WarnContext(ctx, "job failed after retries", "job", job.ID, "key", job.Args.Key, "attempts", job.Attempt, "err", err)
		s.recordFailure(ctx, job.JobRow, true, public, dur)
		s.failedForGood(ctx, job, public)
	default:
		s.log.InfoContext(ctx, "job will retry", "job", job.ID, "key", job.Args.Key, "attempt", job.Attempt, "err", err)
		s.recordFailure(ctx, job.JobRow, false, public, dur)
	}
	return fmt.Errorf("%s: %w", public, err)
}

const (
	timedOutOnce  = "timed out (job timeout "
	timedOutTwice = "timed out twice (job timeout "
)

// timeoutReason is the public reason of an attempt that hit the job's
// deadline: retried once, permanent when an earlier attempt timed out too.
func (s *Service) timeoutReason(row *rivertype.JobRow) string {
	limit := strconv.FormatFloat(s.cfg.JobTimeout.Seconds(), 'f', -1, 64) + "s"
	for _, e := range row.Errors {
		if strings.HasPrefix(e.Error, timedOutOnce) {
			return timedOutTwice + limit + ")"
		}
	}
	return timedOutOnce + limit + "), will retry once"
}

// completed records the variants and completes the River job in one
// transaction. Should that fail, the job fails this attempt and runs again.
func (s *Service) completed(ctx context.Context, job *river.Job[resizeArgs], variants []adminapi.VariantOK, rm rendered, bytesIn int64, dur time.Duration) error {
	// The variants are stored: record that even if the deadline has just passed.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := s.queue.inTx(ctx, func(tx txn) error {
		if err := completeTx(ctx, tx, job, variants, bytesIn, dur.Milliseconds()); err != nil {
			return err
		}
		return s.finishedHook(ctx, tx, Finished{JobID: job.ID, Attempt: job.Attempt, Bucket: job.Args.Bucket,
			Key: job.Args.Key, ETag: job.Args.ETag, OK: true, Variants: variants, Formats: rm.formats, Thumb: rm.thumb})
	})
	if err != nil {
		s.log.WarnContext(ctx, "record completed job", "job", job.ID, "err", err)
		return fmt.Errorf("record completed job: %w", err)
	}
	s.metrics.jobDur.Observe(dur.Seconds())
	s.log.InfoContext(ctx, "job completed", "job", job.ID, "key", job.Args.Key, "variants", len(variants), "ms", dur.Milliseconds())
	return nil
}

// process renders and stores the variants of one original.
func (s *Service) process(ctx context.Context, args resizeArgs) ([]adminapi.VariantOK, rendered, int64, error) {
	set, err := s.presets.Load(ctx, args.PresetVersion)
	if err != nil {
		return nil, rendered{}, 0, fmt.Errorf("load preset version %d: %w", args.PresetVersion, err)
	}
	list := jobPresets(set, args.Presets)
	list = s.notYetRendered(ctx, args, set, list)
	if len(list) == 0 {
		return nil, rendered{}, 0, nil
	}
	defer s.flights.finish(args.Key, s.flights.start(args.Key, list))

	rc, info, err := s.cfg.Storage.Get(ctx, args.Bucket, args.Key, storage.GetOptions{Length: -1})
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrBucketNotFound) {
			return nil, rendered{}, 0, &permanentError{msg: "original not found (deleted before it was processed)"}
		}
		return nil, rendered{}, 0, fmt.Errorf("read original: %w", err)
	}
	defer rc.Close()
	// With the object's size the resizer refuses an original over its byte
	// limit before reading any of it, and reads one into a buffer of its size.
	counter := &countingReader{r: rc, size: info.Size}
	if s.testHookResize != nil {
		s.testHookResize(args.Key)
	}
	resizeStart := time.Now()
	src, variants, err := s.cfg.Resizer.Resize(ctx, counter, list)
	resizeDur := time.Since(resizeStart)
	s.metrics.bytesIn.Add(float64(counter.n))
	if err != nil {
		return nil, rendered{}, counter.n, fmt.Errorf("resize: %w", err)
	}
	etag := NormETag(info.ETag)
	if etag == "" {
		etag = args.ETag
	}
	perVariant := resizeDur / time.Duration(max(len(variants), 1))
	out := make([]adminapi.VariantOK, 0, len(variants))
	for _, v := range variants {
		sp, _ := set.Get(v.Preset)
		ok, err := s.storeVariant(ctx, v.Preset+"/"+args.Key, v, etag, sp.Since, perVariant)
		if err != nil {
			return nil, rendered{}, counter.n, err
		}
		out = append(out, ok)
	}
	// Siblings only now: the primaries are stored and readable already.
	siblings, err := s.storeSiblings(ctx, args.Key, variants, set, etag)
	out = append(out, siblings...)
	if err != nil {
		return nil, rendered{}, counter.n, err
	}
	// The original may have been deleted while we worked: do not leave orphans.
	if _, err := s.cfg.Storage.Stat(ctx, args.Bucket, args.Key); errors.Is(err, storage.ErrNotFound) {
		for _, v := range out {
			_ = s.cfg.Storage.Delete(ctx, s.resized, v.Key)
		}
		return nil, rendered{}, counter.n, &permanentError{msg: "original deleted while it was processed"}
	}
	return out, renderedOf(src, variants, args.Key), counter.n, nil
}

// storeVariant writes one variant (or sibling) to NAME-resized at vkey.
func (s *Service) storeVariant(ctx context.Context, vkey string, v resizer.Variant, etag string, since int64, encodeDur time.Duration) (adminapi.VariantOK, error) {
	putStart := time.Now()
	meta := map[string]string{
		metaSourceETag:    etag,
		metaPresetVersion: strconv.FormatInt(since, 10),
		metaPreset:        v.Preset,
	}
	if v.Animated {
		meta[metaAnimated] = "true"
	}
	_, err := s.cfg.Storage.Put(ctx, s.resized, vkey, bytes.NewReader(v.Data), int64(len(v.Data)), storage.PutOptions{
		ContentType: v.ContentType, CacheControl: s.cfg.CacheControl, Metadata: meta,
	})
	if err != nil {
		return adminapi.VariantOK{}, fmt.Errorf("write variant %s: %w", vkey, err)
	}
	d := encodeDur + time.Since(putStart)
	s.metrics.presetDur.WithLabelValues(v.Preset).Observe(d.Seconds())
	s.metrics.bytesOut.Add(float64(len(v.Data)))
	format := ""
	if slices.Contains(resizer.SiblingFormats, v.Format) {
		format = v.Format
	}
	return adminapi.VariantOK{
		Preset: v.Preset, Key: vkey, Format: format, Width: v.Width, Height: v.Height,
		Bytes: int64(len(v.Data)), MS: d.Milliseconds(),
	}, nil
}

// storeSiblings encodes and stores the WebP siblings of every variant, then
// the AVIF ones (the slow encoder last). A sibling that cannot be encoded is
// logged and skipped: the primary is there and negotiation falls back to it.
func (s *Service) storeSiblings(ctx context.Context, key string, variants []resizer.Variant, set presets.Set, etag string) ([]adminapi.VariantOK, error) {
	var out []adminapi.VariantOK
	for _, format := range []string{"webp", "avif"} {
		for _, v := range variants {
			sp, _ := set.Get(v.Preset)
			if !slices.Contains(sp.Formats, format) || !v.SiblingPossible(format) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return out, err
			}
			start := time.Now()
			sib, err := resizer.EncodeSibling(v, format, sp.Preset)
			if err != nil {
				s.log.WarnContext(ctx, "sibling not encoded", "preset", v.Preset, "format", format, "key", key, "err", err)
				continue
			}
			ok, err := s.storeVariant(ctx, resizer.SiblingKey(v.Preset, format, key), sib, etag, sp.Since, time.Since(start))
			if err != nil {
				return out, err
			}
			out = append(out, ok)
		}
	}
	return out, nil
}

// jobPresets returns the presets of set a job renders: names, or all when empty.
func jobPresets(set presets.Set, names []string) []resizer.Preset {
	var list []resizer.Preset
	for _, sp := range set.Presets {
		if len(names) == 0 || slices.Contains(names, sp.Name) {
			list = append(list, sp.Preset)
		}
	}
	return list
}

// countingReader counts the bytes read and tells the resizer the object's
// size (resizer.Sized): an original over the byte limit is refused before
// it is read, any other is read into one buffer of its size.
type countingReader struct {
	r    io.Reader
	n    int64
	size int64
}

func (c *countingReader) Size() int64 { return c.size }

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
		if (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)) && !strings.Contains(strings.ToLower(msg), "truncat") {
			msg += " (truncated: the data ends early)"
		}
		if msg == "" {
			return kind
		}
		if !strings.Contains(msg, kind) {
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
	h.s.recordFailure(ctx, row, true, "internal error while processing the image", 0)
	return &river.ErrorHandlerResult{SetCancelled: true}
}
