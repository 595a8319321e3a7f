package jobs

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/imgate/imgate/gateway/storage"
)

// resizeArgs are the arguments of a resize job. The fields tagged
// river:"unique" are its identity: (bucket, key, ETag, preset version,
// preset subset). Duplicate triggers collapse into one job; a backfill that
// renders only some presets is a different job from the full one.
type resizeArgs struct {
	Bucket        string   `json:"bucket" river:"unique"`
	Key           string   `json:"key" river:"unique"`
	ETag          string   `json:"etag" river:"unique"`
	PresetVersion int64    `json:"preset_version" river:"unique"`
	Presets       []string `json:"presets,omitempty" river:"unique"` // the preset subset; empty = all presets of the version
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

// Enqueue records the resize job of an original. It is idempotent: the same
// (bucket, key, ETag, preset version) collapses into one job. It returns only
// once the job is durably recorded. source is "gateway", "webhook",
// "reconcile", "backfill" or "retry".
func (s *Service) Enqueue(ctx context.Context, obj storage.ObjectInfo, source string) error {
	_, err := s.enqueue(ctx, obj, source, nil, 0)
	return err
}

// enqueue inserts a job for presets (nil = all of the current version). It
// returns the job row (new or the existing duplicate).
func (s *Service) enqueue(ctx context.Context, obj storage.ObjectInfo, source string, presets []string, backfillID int64) (*rivertype.JobInsertResult, error) {
	if obj.Bucket == "" {
		obj.Bucket = s.original
	}
	if obj.Bucket != s.original {
		return nil, fmt.Errorf("jobs: enqueue: bucket %q is not %q", obj.Bucket, s.original)
	}
	if err := storage.ValidateKey(obj.Key); err != nil {
		return nil, fmt.Errorf("jobs: enqueue: %w", err)
	}
	set, err := s.presets.Current(ctx)
	if err != nil {
		return nil, err
	}
	args := resizeArgs{
		Bucket: obj.Bucket, Key: obj.Key, ETag: NormETag(obj.ETag),
		PresetVersion: set.Version, Presets: presets, Source: source, BackfillID: backfillID,
	}
	names := presets
	if len(names) == 0 {
		names = set.Names()
	}
	var res *rivertype.JobInsertResult
	err = s.queue.inTx(ctx, func(tx txn) error {
		res, err = insertTx(ctx, tx, args, names)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: enqueue %s: %w", obj.Key, err)
	}
	if res.UniqueSkippedAsDuplicate {
		s.log.DebugContext(ctx, "duplicate trigger collapsed", "key", obj.Key, "source", source, "job", res.Job.ID)
		return res, nil
	}
	s.emitJob(ctx, res.Job.ID)
	return res, nil
}
