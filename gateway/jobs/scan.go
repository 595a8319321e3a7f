package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/storage"
)

// stalePresets returns the names (of want) whose variant of obj is missing or
// was rendered from another ETag or an older definition of the preset.
func (s *Service) stalePresets(ctx context.Context, obj storage.ObjectInfo, set presetSet, want []string) ([]string, error) {
	etag := normETag(obj.ETag)
	var out []string
	for _, name := range want {
		sp, ok := set.get(name)
		if !ok {
			continue
		}
		info, err := s.cfg.Storage.Stat(ctx, s.resized, name+"/"+obj.Key)
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrBucketNotFound) {
			out = append(out, name)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("jobs: stat variant %s/%s: %w", name, obj.Key, err)
		}
		v, _ := strconv.ParseInt(info.Metadata[metaPresetVersion], 10, 64)
		if normETag(info.Metadata[metaSourceETag]) != etag || v < sp.Since {
			out = append(out, name)
		}
	}
	return out, nil
}

// Reconcile lists NAME-original and enqueues every object whose variants are
// missing or stale. Objects whose job failed for good are left alone (an
// operator retries them); a completed job whose variants have since vanished
// is run again.
func (s *Service) Reconcile(ctx context.Context) (adminapi.ReconcileResult, error) {
	var res adminapi.ReconcileResult
	set, err := s.presets.current(ctx)
	if err != nil {
		return res, err
	}
	names := set.names()
	for obj, err := range s.cfg.Storage.List(ctx, s.original, storage.ListOptions{}) {
		if err != nil {
			return res, fmt.Errorf("jobs: reconcile: list originals: %w", err)
		}
		res.Scanned++
		stale, err := s.stalePresets(ctx, obj, set, names)
		if err != nil {
			return res, err
		}
		if len(stale) == 0 {
			continue
		}
		obj.Bucket = s.original
		ins, err := s.enqueue(ctx, obj, "reconcile", nil, 0)
		if err != nil {
			return res, err
		}
		if ins.UniqueSkippedAsDuplicate && (ins.Job.State == rivertype.JobStateCompleted || ins.Job.State == rivertype.JobStateRunning && s.recordedCompleted(ctx, ins.Job.ID)) {
			// Completed, yet variants are missing: check again (it may have
			// just finished) and run it anew.
			again, err := s.stalePresets(ctx, obj, set, names)
			if err != nil {
				return res, err
			}
			if len(again) == 0 {
				continue
			}
			if err := s.forgetJob(ctx, ins.Job.ID); err != nil {
				return res, fmt.Errorf("jobs: reconcile: %w", err)
			}
			if ins, err = s.enqueue(ctx, obj, "reconcile", nil, 0); err != nil {
				return res, err
			}
		}
		if !ins.UniqueSkippedAsDuplicate {
			res.Enqueued++
		}
	}
	return res, nil
}

// recordedCompleted reports whether the worker recorded the job as completed
// (River may not have finalized it yet).
func (s *Service) recordedCompleted(ctx context.Context, id int64) bool {
	var state string
	err := s.db.queryRow(ctx, `SELECT state FROM imgate_jobs WHERE id = ?`, id).Scan(&state)
	return err == nil && state == adminapi.StateCompleted
}

// --- backfills ---

const backfillBatch = 100

var errBackfillRunning = errors.New("a backfill is already running")

type backfillRow struct {
	ID            int64
	State         string
	Presets       []string
	DeleteRemoved bool
	PresetVersion int64
	Total         int64
	Skipped       int64
	Scanned       bool
	Cursor        string
	StartedAt     time.Time
	FinishedAt    *time.Time
	Error         string
}

const backfillColumns = `id, state, presets, delete_removed, preset_version, total, skipped, scanned, cursor, started_at, finished_at, error`

func scanBackfill(sc interface{ Scan(...any) error }) (backfillRow, error) {
	var (
		b        backfillRow
		presets  string
		del, scn int
		started  int64
		finished sql.NullInt64
	)
	if err := sc.Scan(&b.ID, &b.State, &presets, &del, &b.PresetVersion, &b.Total, &b.Skipped, &scn, &b.Cursor, &started, &finished, &b.Error); err != nil {
		return b, err
	}
	_ = json.Unmarshal([]byte(presets), &b.Presets)
	b.DeleteRemoved, b.Scanned = del != 0, scn != 0
	b.StartedAt, b.FinishedAt = msTime(started), msPtr(finished)
	return b, nil
}

// startBackfill records a new backfill; the runner loop picks it up.
func (s *Service) startBackfill(ctx context.Context, req adminapi.BackfillRequest) (adminapi.Backfill, error) {
	set, err := s.presets.current(ctx)
	if err != nil {
		return adminapi.Backfill{}, err
	}
	presets := req.Presets
	if len(presets) == 0 {
		presets = set.names()
	}
	for _, p := range presets {
		if _, ok := set.get(p); !ok {
			return adminapi.Backfill{}, &inputError{msg: fmt.Sprintf("unknown preset %q", p)}
		}
	}
	var running int64
	if err := s.db.queryRow(ctx, `SELECT COUNT(*) FROM imgate_backfills WHERE state = 'running'`).Scan(&running); err != nil {
		return adminapi.Backfill{}, fmt.Errorf("jobs: backfill: %w", err)
	}
	if running > 0 {
		return adminapi.Backfill{}, errBackfillRunning
	}
	del := 0
	if req.DeleteRemoved {
		del = 1
	}
	id, err := s.db.insertID(ctx, `INSERT INTO imgate_backfills (state, presets, delete_removed, preset_version, started_at) VALUES ('running', ?, ?, ?, ?)`,
		presetNamesJSON(presets), del, set.Version, nowMS())
	if err != nil {
		return adminapi.Backfill{}, fmt.Errorf("jobs: backfill: %w", err)
	}
	b, err := s.backfill(ctx, id)
	if err != nil {
		return b, err
	}
	s.events.append(ctx, adminapi.Event{Type: "backfill.progress", Backfill: &b})
	s.log.InfoContext(ctx, "backfill started", "id", id, "presets", presets)
	return b, nil
}

// backfill returns a backfill's progress (id 0: the latest).
func (s *Service) backfill(ctx context.Context, id int64) (adminapi.Backfill, error) {
	var row *sql.Row
	if id > 0 {
		row = s.db.queryRow(ctx, `SELECT `+backfillColumns+` FROM imgate_backfills WHERE id = ?`, id)
	} else {
		row = s.db.queryRow(ctx, `SELECT `+backfillColumns+` FROM imgate_backfills ORDER BY id DESC LIMIT 1`)
	}
	b, err := scanBackfill(row)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return adminapi.Backfill{}, errNotFound
		}
		return adminapi.Backfill{}, fmt.Errorf("jobs: backfill: %w", err)
	}
	return s.progress(ctx, b)
}

func (s *Service) progress(ctx context.Context, b backfillRow) (adminapi.Backfill, error) {
	out := adminapi.Backfill{
		ID: b.ID, State: b.State, Presets: b.Presets, Total: b.Total, Scanned: b.Scanned,
		StartedAt: b.StartedAt, FinishedAt: b.FinishedAt, Error: b.Error,
	}
	if out.Presets == nil {
		out.Presets = []string{}
	}
	var finished, failed int64
	err := s.db.queryRow(ctx, `SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN j.state IN (?, ?, ?) THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN j.state IN (?, ?) THEN 1 ELSE 0 END), 0)
		FROM imgate_backfill_jobs b LEFT JOIN imgate_jobs j ON j.id = b.job_id WHERE b.backfill_id = ?`,
		adminapi.StateCompleted, adminapi.StateFailed, adminapi.StateCancelled,
		adminapi.StateFailed, adminapi.StateCancelled, b.ID).Scan(&out.Enqueued, &finished, &failed)
	if err != nil {
		return out, fmt.Errorf("jobs: backfill progress: %w", err)
	}
	out.Done = b.Skipped + finished
	out.Failed = failed
	return out, nil
}

func (s *Service) linkBackfill(ctx context.Context, backfillID, jobID int64) {
	if _, err := s.db.exec(ctx, `INSERT INTO imgate_backfill_jobs (backfill_id, job_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, backfillID, jobID); err != nil {
		s.log.WarnContext(ctx, "link backfill job", "backfill", backfillID, "job", jobID, "err", err)
	}
}

// cancelBackfill cancels the latest backfill if it is running.
func (s *Service) cancelBackfill(ctx context.Context) (adminapi.Backfill, error) {
	b, err := s.backfill(ctx, 0)
	if err != nil {
		return b, err
	}
	if b.State == "running" {
		if _, err := s.db.exec(ctx, `UPDATE imgate_backfills SET state = 'cancelled', finished_at = ? WHERE id = ? AND state = 'running'`, nowMS(), b.ID); err != nil {
			return b, fmt.Errorf("jobs: cancel backfill: %w", err)
		}
		if b, err = s.backfill(ctx, b.ID); err != nil {
			return b, err
		}
		s.events.append(ctx, adminapi.Event{Type: "backfill.progress", Backfill: &b})
	}
	return b, nil
}

// runBackfills claims running backfills (a lease, so one node scans each),
// advances their scan batch by batch, and finishes them when every job is done.
func (s *Service) runBackfills(ctx context.Context) {
	rows, err := s.db.query(ctx, `SELECT `+backfillColumns+` FROM imgate_backfills WHERE state = 'running' ORDER BY id`)
	if err != nil {
		return
	}
	var list []backfillRow
	for rows.Next() {
		b, err := scanBackfill(rows)
		if err == nil {
			list = append(list, b)
		}
	}
	rows.Close()
	for _, b := range list {
		if err := s.runBackfill(ctx, b); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "backfill", "id", b.ID, "err", err)
		}
	}
}

func (s *Service) claimBackfill(ctx context.Context, id int64) (bool, error) {
	now := nowMS()
	res, err := s.db.exec(ctx, `UPDATE imgate_backfills SET lease_node = ?, lease_until = ? WHERE id = ? AND state = 'running' AND (lease_until < ? OR lease_node = ?)`,
		s.node, now+30_000, id, now, s.node)
	if err != nil {
		return false, fmt.Errorf("jobs: claim backfill: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (s *Service) runBackfill(ctx context.Context, b backfillRow) error {
	if !b.Scanned {
		ok, err := s.claimBackfill(ctx, b.ID)
		if err != nil || !ok {
			return err
		}
		if b.Cursor == "" && b.Total == 0 && b.DeleteRemoved {
			s.deleteRemovedPresets(ctx)
		}
		if err := s.scanBackfill(ctx, &b); err != nil {
			_, _ = s.db.exec(ctx, `UPDATE imgate_backfills SET error = ? WHERE id = ?`, "scan interrupted, will resume: "+publicReason(err), b.ID)
			return err
		}
	}
	p, err := s.progress(ctx, b)
	if err != nil {
		return err
	}
	if p.Scanned && p.Done >= p.Total {
		res, err := s.db.exec(ctx, `UPDATE imgate_backfills SET state = 'done', finished_at = ?, error = '' WHERE id = ? AND state = 'running'`, nowMS(), b.ID)
		if err != nil {
			return fmt.Errorf("jobs: finish backfill: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			if p, err = s.backfill(ctx, b.ID); err == nil {
				s.log.InfoContext(ctx, "backfill done", "id", b.ID, "total", p.Total, "failed", p.Failed)
				s.events.append(ctx, adminapi.Event{Type: "backfill.progress", Backfill: &p})
			}
		}
		return nil
	}
	s.events.append(ctx, adminapi.Event{Type: "backfill.progress", Backfill: &p})
	return nil
}

// scanBackfill lists originals after the persisted cursor and enqueues the
// presets each lacks, saving the cursor and counts after every batch so a
// restart resumes where it stopped.
func (s *Service) scanBackfill(ctx context.Context, b *backfillRow) error {
	set, err := s.presets.current(ctx)
	if err != nil {
		return err
	}
	var want []string
	for _, p := range b.Presets {
		if _, ok := set.get(p); ok {
			want = append(want, p)
		}
	}
	all := set.names()
	slices.Sort(all)
	batch := 0
	save := func(scanned bool) error {
		scn := 0
		if scanned {
			scn = 1
		}
		res, err := s.db.exec(ctx, `UPDATE imgate_backfills SET cursor = ?, total = ?, skipped = ?, scanned = ?, lease_until = ? WHERE id = ? AND state = 'running'`,
			b.Cursor, b.Total, b.Skipped, scn, nowMS()+30_000, b.ID)
		if err != nil {
			return fmt.Errorf("jobs: save backfill: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errors.New("backfill no longer running")
		}
		b.Scanned = scanned
		if p, err := s.progress(ctx, *b); err == nil {
			s.events.append(ctx, adminapi.Event{Type: "backfill.progress", Backfill: &p})
		}
		return nil
	}
	for obj, err := range s.cfg.Storage.List(ctx, s.original, storage.ListOptions{StartAfter: b.Cursor}) {
		if err != nil {
			return fmt.Errorf("jobs: backfill: list originals: %w", err)
		}
		obj.Bucket = s.original
		stale, err := s.stalePresets(ctx, obj, set, want)
		if err != nil {
			return err
		}
		b.Total++
		if len(stale) == 0 {
			b.Skipped++
		} else {
			sorted := slices.Clone(stale)
			slices.Sort(sorted)
			var subset []string
			if !slices.Equal(sorted, all) {
				subset = sorted
			}
			ins, err := s.enqueue(ctx, obj, "backfill", subset, b.ID)
			if err != nil {
				return err
			}
			if ins.UniqueSkippedAsDuplicate {
				s.ensureRecord(ctx, ins.Job)
				s.linkBackfill(ctx, b.ID, ins.Job.ID)
			}
		}
		b.Cursor = obj.Key
		if batch++; batch%backfillBatch == 0 {
			if err := save(false); err != nil {
				return err
			}
		}
	}
	return save(true)
}

// ensureRecord makes sure a River job has an imgate_jobs row (a duplicate's
// record may predate a crash).
func (s *Service) ensureRecord(ctx context.Context, row *rivertype.JobRow) {
	var args resizeArgs
	if err := decodeArgs(row, &args); err != nil {
		return
	}
	var n int64
	if err := s.db.queryRow(ctx, `SELECT COUNT(*) FROM imgate_jobs WHERE id = ?`, row.ID).Scan(&n); err == nil && n == 0 {
		state := adminapi.StateQueued
		switch row.State {
		case rivertype.JobStateCompleted:
			state = adminapi.StateCompleted
		case rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
			state = adminapi.StateFailed
		}
		_, _ = s.db.exec(ctx, upsertJob+`NOTHING`, row.ID, state, args.Source, args.Bucket, args.Key, args.ETag,
			args.PresetVersion, presetNamesJSON(s.namesFor(ctx, args)), row.Attempt, row.MaxAttempts, row.CreatedAt.UnixMilli(), nil, "")
	}
}

// deleteRemovedPresets deletes the variants of presets that no longer exist.
func (s *Service) deleteRemovedPresets(ctx context.Context) {
	set, err := s.presets.current(ctx)
	if err != nil {
		return
	}
	names, err := s.presets.allNames(ctx)
	if err != nil {
		return
	}
	for _, n := range names {
		if _, ok := set.get(n); !ok {
			if err := s.deletePresetVariants(ctx, n); err != nil {
				s.log.WarnContext(ctx, "delete variants of removed preset", "preset", n, "err", err)
			}
		}
	}
}

// deletePresetVariants deletes NAME-resized/name/… entirely.
func (s *Service) deletePresetVariants(ctx context.Context, name string) error {
	var n int
	for obj, err := range s.cfg.Storage.List(ctx, s.resized, storage.ListOptions{Prefix: name + "/"}) {
		if errors.Is(err, storage.ErrBucketNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("jobs: list variants of %s: %w", name, err)
		}
		if err := s.cfg.Storage.Delete(ctx, s.resized, obj.Key); err != nil {
			return fmt.Errorf("jobs: delete %s: %w", obj.Key, err)
		}
		n++
	}
	s.log.InfoContext(ctx, "variants of preset deleted", "preset", name, "count", n)
	return nil
}
