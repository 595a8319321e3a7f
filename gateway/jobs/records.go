package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/imgate/imgate/gateway/adminapi"
)

// The imgate_jobs table mirrors each River job in the terms users see
// (adminapi.Job), with per-variant output and the error history. Every write
// is an upsert, so a record lost to a crash is recreated by the next step.

var errJobNotFound = errors.New("job not found")

func decodeArgs(row *rivertype.JobRow, args *resizeArgs) error {
	if err := json.Unmarshal(row.EncodedArgs, args); err != nil {
		return fmt.Errorf("jobs: decode args of job %d: %w", row.ID, err)
	}
	return nil
}

func presetNamesJSON(names []string) string {
	if names == nil {
		names = []string{}
	}
	b, _ := json.Marshal(names)
	return string(b)
}

const upsertJob = `INSERT INTO imgate_jobs (id, state, source, bucket, okey, etag, preset_version, presets, attempt, max_attempts, created_at, started_at, node)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO `

func (s *Service) recordQueued(ctx context.Context, row *rivertype.JobRow, args resizeArgs, names []string) error {
	_, err := s.db.exec(ctx, upsertJob+`NOTHING`,
		row.ID, adminapi.StateQueued, args.Source, args.Bucket, args.Key, args.ETag, args.PresetVersion,
		presetNamesJSON(names), row.Attempt, row.MaxAttempts, row.CreatedAt.UnixMilli(), nil, "")
	if err != nil {
		return fmt.Errorf("jobs: record job: %w", err)
	}
	if args.BackfillID > 0 {
		s.linkBackfill(ctx, args.BackfillID, row.ID)
	}
	s.emitJob(ctx, "job.queued", row.ID)
	return nil
}

func (s *Service) namesFor(ctx context.Context, args resizeArgs) []string {
	if len(args.Presets) > 0 {
		return args.Presets
	}
	set, err := s.presets.load(ctx, args.PresetVersion)
	if err != nil {
		return nil
	}
	return set.names()
}

func (s *Service) markRunning(ctx context.Context, row *rivertype.JobRow, args resizeArgs) {
	now := nowMS()
	_, err := s.db.exec(ctx, upsertJob+`UPDATE SET state = excluded.state, attempt = excluded.attempt,
		max_attempts = excluded.max_attempts, started_at = excluded.started_at, node = excluded.node, finished_at = NULL`,
		row.ID, adminapi.StateRunning, args.Source, args.Bucket, args.Key, args.ETag, args.PresetVersion,
		presetNamesJSON(s.namesFor(ctx, args)), row.Attempt, row.MaxAttempts, row.CreatedAt.UnixMilli(), now, s.node)
	if err != nil {
		s.log.WarnContext(ctx, "record running job", "job", row.ID, "err", err)
		return
	}
	s.metrics.jobs.WithLabelValues("running").Inc()
	s.emitJob(ctx, "job.running", row.ID)
}

func (s *Service) recordCompleted(ctx context.Context, row *rivertype.JobRow, args resizeArgs, variants []adminapi.VariantOK, bytesIn int64, dur time.Duration) {
	ctx = context.WithoutCancel(ctx)
	now := nowMS()
	var out int64
	for _, v := range variants {
		out += v.Bytes
	}
	// One transaction: one commit (one fsync) for the whole record.
	err := func() error {
		tx, err := s.db.sql.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		if _, err := tx.ExecContext(ctx, s.db.q(`DELETE FROM imgate_job_variants WHERE job_id = ?`), row.ID); err != nil {
			return err
		}
		for _, v := range variants {
			if _, err := tx.ExecContext(ctx, s.db.q(`INSERT INTO imgate_job_variants (job_id, preset, vkey, width, height, bytes, ms, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
				row.ID, v.Preset, v.Key, v.Width, v.Height, v.Bytes, v.MS, now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.db.q(`UPDATE imgate_jobs SET state = ?, finished_at = ?, duration_ms = ?, bytes_in = ?, bytes_out = ?, error = '' WHERE id = ?`),
			adminapi.StateCompleted, now, dur.Milliseconds(), bytesIn, out, row.ID); err != nil {
			return err
		}
		return tx.Commit()
	}()
	if err != nil {
		s.log.WarnContext(ctx, "record completed job", "job", row.ID, "err", err)
	}
	s.metrics.jobs.WithLabelValues(adminapi.StateCompleted).Inc()
	s.metrics.jobDur.Observe(dur.Seconds())
	s.log.InfoContext(ctx, "job completed", "job", row.ID, "key", args.Key, "variants", len(variants), "ms", dur.Milliseconds())
	s.emitJob(ctx, "job.completed", row.ID)
}

func (s *Service) recordFailure(ctx context.Context, row *rivertype.JobRow, args resizeArgs, state, public string, dur time.Duration) {
	ctx = context.WithoutCancel(ctx)
	now := nowMS()
	if _, err := s.db.exec(ctx, `INSERT INTO imgate_job_errors (job_id, attempt, at, error) VALUES (?, ?, ?, ?)`,
		row.ID, row.Attempt, now, public); err != nil {
		s.log.WarnContext(ctx, "record job error", "job", row.ID, "err", err)
	}
	var finished any
	if state == adminapi.StateFailed {
		finished = now
	}
	if _, err := s.db.exec(ctx, `UPDATE imgate_jobs SET state = ?, error = ?, finished_at = ?, duration_ms = ?, attempt = ? WHERE id = ? AND state <> ?`,
		state, public, finished, dur.Milliseconds(), row.Attempt, row.ID, adminapi.StateCancelled); err != nil {
		s.log.WarnContext(ctx, "record failed job", "job", row.ID, "err", err)
	}
	s.metrics.jobs.WithLabelValues(state).Inc()
	s.emitJob(ctx, "job."+state, row.ID)
}

// setState sets a job's state after an operator action.
func (s *Service) setState(ctx context.Context, id int64, state, source string) error {
	var finished any
	if state == adminapi.StateCancelled {
		finished = nowMS()
	}
	q := `UPDATE imgate_jobs SET state = ?, finished_at = ? WHERE id = ?`
	args := []any{state, finished, id}
	if source != "" {
		q = `UPDATE imgate_jobs SET state = ?, finished_at = ?, source = ? WHERE id = ?`
		args = []any{state, finished, source, id}
	}
	if _, err := s.db.exec(ctx, q, args...); err != nil {
		return fmt.Errorf("jobs: update job %d: %w", id, err)
	}
	s.metrics.jobs.WithLabelValues(state).Inc()
	s.emitJob(ctx, "job."+state, id)
	return nil
}

func (s *Service) emitJob(ctx context.Context, typ string, id int64) {
	ctx = context.WithoutCancel(ctx)
	job, err := s.getJob(ctx, id, false)
	if err != nil {
		s.log.WarnContext(ctx, "job event", "job", id, "err", err)
		return
	}
	s.events.append(ctx, adminapi.Event{Type: typ, Job: &job})
}

// jobIDs lists the jobs of an original in the given states.
func (s *Service) jobIDs(ctx context.Context, bucket, key string, states ...string) ([]int64, error) {
	q := `SELECT id FROM imgate_jobs WHERE okey = ? AND bucket = ? AND state IN (?` + strings.Repeat(", ?", len(states)-1) + `)`
	args := []any{key, bucket}
	for _, st := range states {
		args = append(args, st)
	}
	rows, err := s.db.query(ctx, q, args...)
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

const jobColumns = `id, state, source, bucket, okey, etag, preset_version, presets, attempt, max_attempts,
	created_at, started_at, finished_at, duration_ms, error`

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
	j.CreatedAt = msTime(created)
	j.StartedAt = msPtr(started)
	j.FinishedAt = msPtr(finished)
	return j, nil
}

// getJob reads one job; with details it includes variants and the error history.
func (s *Service) getJob(ctx context.Context, id int64, details bool) (adminapi.Job, error) {
	j, err := scanJob(s.db.queryRow(ctx, `SELECT `+jobColumns+` FROM imgate_jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return j, errJobNotFound
	}
	if err != nil {
		return j, fmt.Errorf("jobs: get job %d: %w", id, err)
	}
	if j.State == adminapi.StateCompleted || details {
		rows, err := s.db.query(ctx, `SELECT preset, vkey, width, height, bytes, ms FROM imgate_job_variants WHERE job_id = ? ORDER BY preset`, id)
		if err != nil {
			return j, fmt.Errorf("jobs: get variants of %d: %w", id, err)
		}
		for rows.Next() {
			var v adminapi.VariantOK
			if err := rows.Scan(&v.Preset, &v.Key, &v.Width, &v.Height, &v.Bytes, &v.MS); err != nil {
				rows.Close()
				return j, fmt.Errorf("jobs: get variants of %d: %w", id, err)
			}
			j.Variants = append(j.Variants, v)
		}
		rows.Close()
	}
	if details {
		rows, err := s.db.query(ctx, `SELECT at, attempt, error FROM imgate_job_errors WHERE job_id = ? ORDER BY id`, id)
		if err != nil {
			return j, fmt.Errorf("jobs: get errors of %d: %w", id, err)
		}
		for rows.Next() {
			var (
				e  adminapi.JobError
				at int64
			)
			if err := rows.Scan(&at, &e.Attempt, &e.Error); err != nil {
				rows.Close()
				return j, fmt.Errorf("jobs: get errors of %d: %w", id, err)
			}
			e.At = msTime(at)
			j.Errors = append(j.Errors, e)
		}
		rows.Close()
	}
	return j, nil
}

// jobFilter selects jobs for the list endpoint.
type jobFilter struct {
	State  string
	Prefix string
	Since  time.Time
	Before int64 // cursor: ids below this
	Limit  int
}

func (s *Service) listJobs(ctx context.Context, f jobFilter) (adminapi.JobList, error) {
	var (
		where []string
		args  []any
	)
	if f.State != "" {
		where = append(where, "state = ?")
		args = append(args, f.State)
	}
	if f.Prefix != "" {
		// Range on the key instead of LIKE: no escaping of % and _ needed.
		where = append(where, "okey >= ? AND okey < ?")
		args = append(args, f.Prefix, f.Prefix+"\U0010FFFF")
	}
	if !f.Since.IsZero() {
		where = append(where, "created_at >= ?")
		args = append(args, f.Since.UnixMilli())
	}
	if f.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	q := `SELECT ` + jobColumns + ` FROM imgate_jobs`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit)
	rows, err := s.db.query(ctx, q, args...)
	if err != nil {
		return adminapi.JobList{}, fmt.Errorf("jobs: list jobs: %w", err)
	}
	out := adminapi.JobList{Jobs: []adminapi.Job{}}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			rows.Close()
			return adminapi.JobList{}, fmt.Errorf("jobs: list jobs: %w", err)
		}
		out.Jobs = append(out.Jobs, j)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return adminapi.JobList{}, fmt.Errorf("jobs: list jobs: %w", err)
	}
	if len(out.Jobs) == f.Limit && f.Limit > 0 {
		out.Next = fmt.Sprint(out.Jobs[len(out.Jobs)-1].ID)
	}
	return out, nil
}
