package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/jobdb"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/resizer"
)

// A job's state is River's row; this file is the one place that changes it.
//
// The public state (adminapi.State*) is derived from River's state when
// read (stateExpr). imgate_jobs.outcome records only what River cannot tell
// apart or forgets: "completed" (written in the transaction that completes
// the River job, with the variants) and "cancelled" (an operator or a delete
// cancelled it, written in the transaction that cancels the River job).
// River's cancelled state without that outcome is a permanent failure (the
// worker cancels a job whose image can never be processed). When River no
// longer has the row (retention, or Deleted forgot it) the outcome stands;
// without one the job had failed.
//
// Every transition runs in one transaction spanning River's change and
// imgate's rows (queue.inTx); nothing polls or copies state afterwards.

const (
	outcomeCompleted = adminapi.StateCompleted
	outcomeCancelled = adminapi.StateCancelled
)

// stateExpr computes the public state of imgate_jobs j LEFT JOIN river_job r.
const stateExpr = `(CASE
	WHEN r.id IS NULL THEN (CASE WHEN j.outcome = '' THEN 'failed' ELSE j.outcome END)
	WHEN r.state IN ('available', 'scheduled', 'pending') THEN 'queued'
	WHEN r.state = 'running' THEN 'running'
	WHEN r.state = 'retryable' THEN 'retrying'
	WHEN r.state = 'completed' THEN 'completed'
	WHEN r.state = 'cancelled' AND j.outcome = 'cancelled' THEN 'cancelled'
	ELSE 'failed' END)`

// jobsFrom is the FROM clause stateExpr needs.
const jobsFrom = ` FROM imgate_jobs j LEFT JOIN river_job r ON r.id = j.id`

// ErrNotFound is returned for an unknown job or backfill.
var ErrNotFound = errors.New("not found")

// ConflictError refuses an action the job's current state does not allow; Msg is public.
type ConflictError struct{ Msg string }

func (e *ConflictError) Error() string { return e.Msg }

// InvalidError refuses a request; Msg is public.
type InvalidError struct{ Msg string }

func (e *InvalidError) Error() string { return e.Msg }

const insertJob = `INSERT INTO imgate_jobs (id, source, bucket, okey, etag, preset_version, presets, attempt, max_attempts, created_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`

// insertTx inserts the River job of args and, when it is new, its record;
// a backfill's job (new or the existing duplicate) is linked to it.
func insertTx(ctx context.Context, tx txn, args resizeArgs, names []string) (*rivertype.JobInsertResult, error) {
	res, err := tx.insert(ctx, args)
	if err != nil {
		return nil, err
	}
	if !res.UniqueSkippedAsDuplicate {
		row := res.Job
		if _, err := tx.exec(ctx, insertJob, row.ID, args.Source, args.Bucket, args.Key, args.ETag, args.PresetVersion,
			presetNamesJSON(names), row.Attempt, row.MaxAttempts, row.CreatedAt.UnixMilli()); err != nil {
			return nil, fmt.Errorf("record job: %w", err)
		}
	}
	if args.BackfillID > 0 {
		if _, err := tx.exec(ctx, `INSERT INTO imgate_backfill_jobs (backfill_id, job_id) VALUES (?, ?) ON CONFLICT DO NOTHING`,
			args.BackfillID, res.Job.ID); err != nil {
			return nil, fmt.Errorf("link backfill job: %w", err)
		}
	}
	return res, nil
}

// completeTx records a job's variants and completes its River job, at once.
func completeTx(ctx context.Context, tx txn, job *river.Job[resizeArgs], variants []adminapi.VariantOK, bytesIn int64, durMS int64) error {
	now := jobdb.NowMS()
	var out int64
	if _, err := tx.exec(ctx, `DELETE FROM imgate_job_variants WHERE job_id = ?`, job.ID); err != nil {
		return err
	}
	for _, v := range variants {
		out += v.Bytes
		row := v.Preset // the primary; a sibling by its directory ("150x.avif")
		if slices.Contains(resizer.SiblingFormats, v.Format) {
			row = v.Preset + "." + v.Format
		}
		if _, err := tx.exec(ctx, `INSERT INTO imgate_job_variants (job_id, preset, vkey, width, height, bytes, ms, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			job.ID, row, v.Key, v.Width, v.Height, v.Bytes, v.MS, now); err != nil {
			return err
		}
	}
	if _, err := tx.exec(ctx, `UPDATE imgate_jobs SET outcome = ?, finished_at = ?, duration_ms = ?, bytes_in = ?, bytes_out = ?, error = '' WHERE id = ?`,
		outcomeCompleted, now, durMS, bytesIn, out, job.ID); err != nil {
		return err
	}
	return tx.complete(ctx, job)
}

// stateTx reads a job's public state inside tx.
func stateTx(ctx context.Context, tx txn, id int64) (string, error) {
	var state string
	err := tx.queryRow(ctx, `SELECT `+stateExpr+jobsFrom+` WHERE j.id = ?`, id).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return state, err
}

// cancelTx cancels a waiting job. A job a worker already runs is only asked
// to stop (River cancels its context); it ends as its worker decides.
func cancelTx(ctx context.Context, tx txn, id int64) error {
	row, err := tx.cancel(ctx, id)
	if err != nil && !errors.Is(err, rivertype.ErrNotFound) {
		return err
	}
	if row != nil && row.State == rivertype.JobStateRunning {
		return nil
	}
	_, err = tx.exec(ctx, `UPDATE imgate_jobs SET outcome = ?, finished_at = ? WHERE id = ?`, outcomeCancelled, jobdb.NowMS(), id)
	return err
}

// CancelJob cancels a job that has not finished.
func (s *Service) CancelJob(ctx context.Context, id int64) (adminapi.Job, error) {
	err := s.queue.inTx(ctx, func(tx txn) error {
		state, err := stateTx(ctx, tx, id)
		if err != nil {
			return err
		}
		switch state {
		case adminapi.StateCompleted, adminapi.StateFailed, adminapi.StateCancelled:
			return &ConflictError{Msg: fmt.Sprintf("job %d is already %s", id, state)}
		}
		return cancelTx(ctx, tx, id)
	})
	if err != nil {
		return adminapi.Job{}, s.txErr("cancel job", id, err)
	}
	s.emitJob(ctx, id)
	return s.Job(ctx, id)
}

// RetryJob runs a failed or cancelled job again. When River no longer has
// the job (retention), the original is enqueued anew: the answer is then
// that new job.
func (s *Service) RetryJob(ctx context.Context, id int64) (adminapi.Job, error) {
	var bucket, key string
	forgotten := false
	err := s.queue.inTx(ctx, func(tx txn) error {
		state, err := stateTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if state != adminapi.StateFailed && state != adminapi.StateCancelled {
			return &ConflictError{Msg: fmt.Sprintf("job %d is %s; only failed or cancelled jobs can be retried", id, state)}
		}
		if _, err := tx.retry(ctx, id); errors.Is(err, rivertype.ErrNotFound) {
			forgotten = true
			return tx.queryRow(ctx, `SELECT bucket, okey FROM imgate_jobs WHERE id = ?`, id).Scan(&bucket, &key)
		} else if err != nil {
			return err
		}
		_, err = tx.exec(ctx, `UPDATE imgate_jobs SET outcome = '', finished_at = NULL, source = 'retry' WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return adminapi.Job{}, s.txErr("retry job", id, err)
	}
	if forgotten {
		info, err := s.cfg.Storage.Stat(ctx, bucket, key)
		if err != nil {
			return adminapi.Job{}, fmt.Errorf("jobs: retry job %d: %w", id, err)
		}
		res, err := s.enqueue(ctx, info, "retry", nil, 0)
		if err != nil {
			return adminapi.Job{}, err
		}
		id = res.Job.ID
	} else {
		s.emitJob(ctx, id)
	}
	return s.Job(ctx, id)
}

// txErr passes public errors through and wraps the rest.
func (s *Service) txErr(what string, id int64, err error) error {
	var ce *ConflictError
	if errors.Is(err, ErrNotFound) || errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("jobs: %s %d: %w", what, id, err)
}

// forget deletes a finished River job, so an identical trigger makes a new
// job; its record stays (with its outcome) for the history.
func (s *Service) forget(ctx context.Context, id int64) error {
	return s.queue.inTx(ctx, func(tx txn) error {
		_, err := tx.remove(ctx, id)
		if err != nil && !errors.Is(err, rivertype.ErrNotFound) {
			return fmt.Errorf("jobs: delete job %d: %w", id, err)
		}
		return nil
	})
}

// jobIDs lists the jobs of an original in the given public states.
func (s *Service) jobIDs(ctx context.Context, bucket, key string, states ...string) ([]int64, error) {
	q := `SELECT j.id` + jobsFrom + ` WHERE j.okey = ? AND j.bucket = ? AND ` + stateExpr + ` IN (?` + strings.Repeat(", ?", len(states)-1) + `)`
	args := []any{key, bucket}
	for _, st := range states {
		args = append(args, st)
	}
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("jobs: list jobs of %s: %w", key, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("jobs: list jobs of %s: %w", key, err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// forgetOriginal cancels the waiting jobs of a deleted original (they would
// only fail) and forgets its finished ones, so re-uploading identical bytes
// processes them again.
func (s *Service) forgetOriginal(ctx context.Context, obj storage.ObjectInfo) error {
	waiting, err := s.jobIDs(ctx, obj.Bucket, obj.Key, adminapi.StateQueued, adminapi.StateRetrying)
	if err != nil {
		return err
	}
	for _, id := range waiting {
		if err := s.queue.inTx(ctx, func(tx txn) error { return cancelTx(ctx, tx, id) }); err != nil {
			s.log.WarnContext(ctx, "cancel job of deleted original", "job", id, "err", err)
			continue
		}
		s.emitJob(ctx, id)
	}
	ids, err := s.jobIDs(ctx, obj.Bucket, obj.Key, adminapi.StateCompleted, adminapi.StateFailed, adminapi.StateCancelled)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.forget(ctx, id); err != nil {
			s.log.WarnContext(ctx, "forget finished job", "job", id, "err", err)
		}
	}
	return nil
}
