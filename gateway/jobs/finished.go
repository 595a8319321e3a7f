package jobs

import (
	"context"
	"fmt"
	"image"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/jobdb"
	"github.com/imgate/imgate/resizer"
)

// Finished is a job's final outcome, handed to Config.Finished.
type Finished struct {
	JobID    int64
	Attempt  int
	Bucket   string // NAME-original
	Key      string
	ETag     string
	OK       bool   // completed; false: failed for good
	Reason   string // public reason of the failure
	Resized  string // NAME-resized
	Variants []adminapi.VariantOK
	// Formats maps each variant's key to its format (jpeg, png, webp…).
	Formats map[string]string
	// Thumb is the decoded image, at most 32 pixels on a side (nil on failure).
	Thumb *image.RGBA
}

// FinishedTx is the transaction recording the outcome.
type FinishedTx interface {
	Exec(ctx context.Context, query string, args ...any) error
	// Insert adds a River job (with its InsertOpts) in the transaction.
	Insert(ctx context.Context, args river.JobArgs) error
}

type finishedTx struct{ tx txn }

func (f finishedTx) Exec(ctx context.Context, query string, args ...any) error {
	_, err := f.tx.exec(ctx, query, args...)
	return err
}

func (f finishedTx) Insert(ctx context.Context, args river.JobArgs) error {
	_, err := f.tx.insert(ctx, args)
	return err
}

// finishedHook runs Config.Finished in tx, if set.
func (s *Service) finishedHook(ctx context.Context, tx txn, f Finished) error {
	if s.cfg.Finished == nil {
		return nil
	}
	f.Resized = s.resized
	return s.cfg.Finished(ctx, finishedTx{tx}, f)
}

// failedForGood records a job's final failure for the Finished hook, in a
// transaction of its own, before River records it: a crash in between
// runs the job again, so the outcome is announced at least once.
func (s *Service) failedForGood(ctx context.Context, job *river.Job[resizeArgs], reason string) {
	if s.cfg.Finished == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	err := s.queue.inTx(ctx, func(tx txn) error {
		return s.finishedHook(ctx, tx, Finished{JobID: job.ID, Attempt: job.Attempt, Bucket: job.Args.Bucket,
			Key: job.Args.Key, ETag: job.Args.ETag, Reason: reason})
	})
	if err != nil {
		s.log.WarnContext(ctx, "record failed outcome", "job", job.ID, "err", err)
	}
}

// DB is the job store's database (for packages keeping rows next to the jobs').
func (s *Service) DB() *jobdb.DB { return s.db }

// RiverJobs lists up to n River jobs of kind in the given states, newest first.
func (s *Service) RiverJobs(ctx context.Context, kind string, n int, states ...rivertype.JobState) ([]*rivertype.JobRow, error) {
	p := river.NewJobListParams().Kinds(kind).States(states...).First(n).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
	rows, err := s.queue.list(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("jobs: list %s jobs: %w", kind, err)
	}
	return rows, nil
}

// rendered is what the resizer told about a job's image besides the variants.
type rendered struct {
	thumb   *image.RGBA
	formats map[string]string // variant key → format
}

func renderedOf(src resizer.Source, variants []resizer.Variant, key string) rendered {
	r := rendered{thumb: src.Thumb, formats: make(map[string]string, len(variants))}
	for _, v := range variants {
		r.formats[v.Preset+"/"+key] = v.Format
	}
	return r
}
