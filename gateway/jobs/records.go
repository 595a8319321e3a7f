package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/jobdb"
	"github.com/imgate/imgate/resizer"
)

// imgate_jobs keeps, per River job, what users see beyond its state
// (adminapi.Job): source, preset names, attempts, times, per-variant output
// and the error history. Its rows are created with the River job (insertTx).

func presetNamesJSON(names []string) string {
	if names == nil {
		names = []string{}
	}
	b, _ := json.Marshal(names)
	return string(b)
}

// markRunning notes the attempt a worker starts.
func (s *Service) markRunning(ctx context.Context, row *rivertype.JobRow) {
	_, err := s.db.Exec(ctx, `UPDATE imgate_jobs SET attempt = ?, max_attempts = ?, started_at = ?, node = ?, finished_at = NULL WHERE id = ?`,
		row.Attempt, row.MaxAttempts, jobdb.NowMS(), s.node, row.ID)
	if err != nil {
		s.log.WarnContext(ctx, "record running job", "job", row.ID, "err", err)
		return
	}
	s.emitJob(ctx, row.ID)
}

// recordFailure notes a failed attempt (public reason) in the job's history;
// River decides, from what the worker returns, whether it runs again.
func (s *Service) recordFailure(ctx context.Context, row *rivertype.JobRow, final bool, public string, dur time.Duration) {
	ctx = context.WithoutCancel(ctx)
	now := jobdb.NowMS()
	if _, err := s.db.Exec(ctx, `INSERT INTO imgate_job_errors (job_id, attempt, at, error) VALUES (?, ?, ?, ?)`,
		row.ID, row.Attempt, now, public); err != nil {
		s.log.WarnContext(ctx, "record job error", "job", row.ID, "err", err)
	}
	var finished any
	if final {
		finished = now
	}
	if _, err := s.db.Exec(ctx, `UPDATE imgate_jobs SET error = ?, finished_at = ?, duration_ms = ?, attempt = ? WHERE id = ?`,
		public, finished, dur.Milliseconds(), row.Attempt, row.ID); err != nil {
		s.log.WarnContext(ctx, "record failed job", "job", row.ID, "err", err)
	}
}

// emitJob appends "job.<state>" with the job as it is now to the event log.
func (s *Service) emitJob(ctx context.Context, id int64) {
	ctx = context.WithoutCancel(ctx)
	job, err := s.getJob(ctx, id, false)
	if err != nil {
		s.log.WarnContext(ctx, "job event", "job", id, "err", err)
		return
	}
	s.metrics.jobs.WithLabelValues(job.State).Inc()
	s.events.append(ctx, adminapi.Event{Type: "job." + job.State, Job: &job})
}

// announceFinished emits the event of every job River finished for this
// process, after River committed its state. When ctx ends (Stop, after
// River stopped and handed over its last events) it emits what is left.
func (s *Service) announceFinished(ctx context.Context, finished <-chan *river.Event) {
	emit := func(ev *river.Event) {
		if ev.Job != nil && ev.Job.Kind == jobKind { // not other kinds (webhook deliveries)
			s.emitJob(ctx, ev.Job.ID)
		}
	}
	for {
		select {
		case ev, ok := <-finished:
			if !ok {
				return
			}
			emit(ev)
		case <-ctx.Done():
			for {
				select {
				case ev, ok := <-finished:
					if !ok {
						return
					}
					emit(ev)
				default:
					return
				}
			}
		}
	}
}

const jobColumns = `j.id, ` + stateExpr + `, j.source, j.bucket, j.okey, j.etag, j.preset_version, j.presets, j.attempt, j.max_attempts,
	j.created_at, j.started_at, j.finished_at, j.duration_ms, j.error`

func scanJob(sc interface{ Scan(...any) error }) (adminapi.Job, error) {
	var (
		j                 adminapi.Job
		presets           string
		created           int64
		started, finished sql.NullInt64
	)
	if err := sc.Scan(&j.ID, &j.State, &j.Source, &j.Bucket, &j.Key, &j.ETag, &j.PresetVersion, &presets,
		&j.Attempt, &j.MaxAttempts, &created, &started, &finished, &j.DurationMS, &j.Error); err != nil {
		return j, err
	}
	_ = json.Unmarshal([]byte(presets), &j.Presets)
	if j.Presets == nil {
		j.Presets = []string{}
	}
	j.CreatedAt = jobdb.MSTime(created)
	j.StartedAt = jobdb.MSPtr(started)
	j.FinishedAt = jobdb.MSPtr(finished)
	return j, nil
}

// Job returns one job with its variants and error history.
func (s *Service) Job(ctx context.Context, id int64) (adminapi.Job, error) {
	return s.getJob(ctx, id, true)
}

// getJob reads one job; with details it includes variants and the error history.
func (s *Service) getJob(ctx context.Context, id int64, details bool) (adminapi.Job, error) {
	j, err := scanJob(s.db.QueryRow(ctx, `SELECT `+jobColumns+jobsFrom+` WHERE j.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return j, ErrNotFound
	}
	if err != nil {
		return j, fmt.Errorf("jobs: get job %d: %w", id, err)
	}
	if j.State == adminapi.StateCompleted || details {
		if j.Variants, err = s.variantsOf(ctx, id); err != nil {
			return j, err
		}
	}
	if details {
		if j.Errors, err = s.errorsOf(ctx, id); err != nil {
			return j, err
		}
	}
	return j, nil
}

func (s *Service) variantsOf(ctx context.Context, id int64) ([]adminapi.VariantOK, error) {
	rows, err := s.db.Query(ctx, `SELECT preset, vkey, width, height, bytes, ms FROM imgate_job_variants WHERE job_id = ? ORDER BY preset`, id)
	if err != nil {
		return nil, fmt.Errorf("jobs: get variants of %d: %w", id, err)
	}
	defer rows.Close()
	var out []adminapi.VariantOK
	for rows.Next() {
		var v adminapi.VariantOK
		if err := rows.Scan(&v.Preset, &v.Key, &v.Width, &v.Height, &v.Bytes, &v.MS); err != nil {
			return nil, fmt.Errorf("jobs: get variants of %d: %w", id, err)
		}
		// A sibling's row is keyed by its directory ("150x.avif").
		for _, f := range resizer.SiblingFormats {
			if base, ok := strings.CutSuffix(v.Preset, "."+f); ok && v.Key == resizer.SiblingKey(base, f, strings.TrimPrefix(v.Key, v.Preset+"/")) {
				v.Preset, v.Format = base, f
			}
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (s *Service) errorsOf(ctx context.Context, id int64) ([]adminapi.JobError, error) {
	rows, err := s.db.Query(ctx, `SELECT at, attempt, error FROM imgate_job_errors WHERE job_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("jobs: get errors of %d: %w", id, err)
	}
	defer rows.Close()
	var out []adminapi.JobError
	for rows.Next() {
		var (
			e  adminapi.JobError
			at int64
		)
		if err := rows.Scan(&at, &e.Attempt, &e.Error); err != nil {
			return nil, fmt.Errorf("jobs: get errors of %d: %w", id, err)
		}
		e.At = jobdb.MSTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// JobFilter selects jobs for ListJobs.
type JobFilter struct {
	State  string // a public state (adminapi.State*), "" for all
	Prefix string // key prefix
	Since  time.Time
	Before int64 // cursor: ids below this
	Limit  int
}

// ListJobs returns a page of jobs, newest first.
func (s *Service) ListJobs(ctx context.Context, f JobFilter) (adminapi.JobList, error) {
	var (
		where []string
		args  []any
	)
	if f.State != "" {
		where = append(where, stateExpr+" = ?")
		args = append(args, f.State)
	}
	if f.Prefix != "" {
		// Range on the key instead of LIKE: no escaping of % and _ needed.
		where = append(where, "j.okey >= ? AND j.okey < ?")
		args = append(args, f.Prefix, f.Prefix+"\U0010FFFF")
	}
	if !f.Since.IsZero() {
		where = append(where, "j.created_at >= ?")
		args = append(args, f.Since.UnixMilli())
	}
	if f.Before > 0 {
		where = append(where, "j.id < ?")
		args = append(args, f.Before)
	}
	q := `SELECT ` + jobColumns + jobsFrom
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY j.id DESC LIMIT ?"
	args = append(args, f.Limit)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return adminapi.JobList{}, fmt.Errorf("jobs: list jobs: %w", err)
	}
	defer rows.Close()
	out := adminapi.JobList{Jobs: []adminapi.Job{}}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return adminapi.JobList{}, fmt.Errorf("jobs: list jobs: %w", err)
		}
		out.Jobs = append(out.Jobs, j)
	}
	if err := rows.Err(); err != nil {
		return adminapi.JobList{}, fmt.Errorf("jobs: list jobs: %w", err)
	}
	if len(out.Jobs) == f.Limit && f.Limit > 0 {
		out.Next = fmt.Sprint(out.Jobs[len(out.Jobs)-1].ID)
	}
	return out, nil
}
