package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/jobdb"
	"github.com/imgate/imgate/gateway/storage"
)

// A backfill renders some presets for every original that lacks them. Its
// row holds a cursor into the listing of originals, saved after every batch,
// and a lease, so exactly one node scans it and a restart resumes it.

const backfillBatch = 100

// ErrBackfillRunning refuses a second backfill while one runs.
var ErrBackfillRunning = errors.New("a backfill is already running")

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
	b.StartedAt, b.FinishedAt = jobdb.MSTime(started), jobdb.MSPtr(finished)
	return b, nil
}

// StartBackfill records a new backfill; the runner loop picks it up.
func (s *Service) StartBackfill(ctx context.Context, req adminapi.BackfillRequest) (adminapi.Backfill, error) {
	set, err := s.presets.Current(ctx)
	if err != nil {
		return adminapi.Backfill{}, err
	}
	presets := req.Presets
	if len(presets) == 0 {
		presets = set.Names()
	}
	for _, p := range presets {
		if _, ok := set.Get(p); !ok {
			return adminapi.Backfill{}, &InvalidError{Msg: fmt.Sprintf("unknown preset %q", p)}
		}
	}
	var running int64
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM imgate_backfills WHERE state = ?`, adminapi.BackfillRunning).Scan(&running); err != nil {
		return adminapi.Backfill{}, fmt.Errorf("jobs: backfill: %w", err)
	}
	if running > 0 {
		return adminapi.Backfill{}, ErrBackfillRunning
	}
	del := 0
	if req.DeleteRemoved {
		del = 1
	}
	id, err := s.db.InsertID(ctx, `INSERT INTO imgate_backfills (state, presets, delete_removed, preset_version, started_at) VALUES (?, ?, ?, ?, ?)`,
		adminapi.BackfillRunning, presetNamesJSON(presets), del, set.Version, jobdb.NowMS())
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

// Backfill returns the latest backfill's progress (ErrNotFound if none).
func (s *Service) Backfill(ctx context.Context) (adminapi.Backfill, error) {
	return s.backfill(ctx, 0)
}

// backfill returns a backfill's progress (id 0: the latest).
func (s *Service) backfill(ctx context.Context, id int64) (adminapi.Backfill, error) {
	var row *sql.Row
	if id > 0 {
		row = s.db.QueryRow(ctx, `SELECT `+backfillColumns+` FROM imgate_backfills WHERE id = ?`, id)
	} else {
		row = s.db.QueryRow(ctx, `SELECT `+backfillColumns+` FROM imgate_backfills ORDER BY id DESC LIMIT 1`)
	}
	b, err := scanBackfill(row)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return adminapi.Backfill{}, ErrNotFound
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
	err := s.db.QueryRow(ctx, `SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN `+stateExpr+` IN (?, ?, ?) THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN `+stateExpr+` IN (?, ?) THEN 1 ELSE 0 END), 0)
		FROM imgate_backfill_jobs b LEFT JOIN imgate_jobs j ON j.id = b.job_id LEFT JOIN river_job r ON r.id = b.job_id
		WHERE b.backfill_id = ?`,
		adminapi.StateCompleted, adminapi.StateFailed, adminapi.StateCancelled,
		adminapi.StateFailed, adminapi.StateCancelled, b.ID).Scan(&out.Enqueued, &finished, &failed)
	if err != nil {
		return out, fmt.Errorf("jobs: backfill progress: %w", err)
	}
	out.Done = b.Skipped + finished
	out.Failed = failed
	return out, nil
}

// CancelBackfill cancels the latest backfill if it is running.
func (s *Service) CancelBackfill(ctx context.Context) (adminapi.Backfill, error) {
	b, err := s.backfill(ctx, 0)
	if err != nil {
		return b, err
	}
	if b.State == adminapi.BackfillRunning {
		if _, err := s.db.Exec(ctx, `UPDATE imgate_backfills SET state = ?, finished_at = ? WHERE id = ? AND state = ?`,
			adminapi.BackfillCancelled, jobdb.NowMS(), b.ID, adminapi.BackfillRunning); err != nil {
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
	rows, err := s.db.Query(ctx, `SELECT `+backfillColumns+` FROM imgate_backfills WHERE state = ? ORDER BY id`, adminapi.BackfillRunning)
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
	now := jobdb.NowMS()
	res, err := s.db.Exec(ctx, `UPDATE imgate_backfills SET lease_node = ?, lease_until = ? WHERE id = ? AND state = ? AND (lease_until < ? OR lease_node = ?)`,
		s.node, now+30_000, id, adminapi.BackfillRunning, now, s.node)
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
			_, _ = s.db.Exec(ctx, `UPDATE imgate_backfills SET error = ? WHERE id = ?`, "scan interrupted, will resume: "+publicReason(err), b.ID)
			return err
		}
	}
	p, err := s.progress(ctx, b)
	if err != nil {
		return err
	}
	if p.Scanned && p.Done >= p.Total {
		res, err := s.db.Exec(ctx, `UPDATE imgate_backfills SET state = ?, finished_at = ?, error = '' WHERE id = ? AND state = ?`,
			adminapi.BackfillDone, jobdb.NowMS(), b.ID, adminapi.BackfillRunning)
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

// saveBackfill persists the cursor and counts (and the lease) of a running
// backfill and announces its progress.
func (s *Service) saveBackfill(ctx context.Context, b *backfillRow, scanned bool) error {
	scn := 0
	if scanned {
		scn = 1
	}
	res, err := s.db.Exec(ctx, `UPDATE imgate_backfills SET cursor = ?, total = ?, skipped = ?, scanned = ?, lease_until = ? WHERE id = ? AND state = ?`,
		b.Cursor, b.Total, b.Skipped, scn, jobdb.NowMS()+30_000, b.ID, adminapi.BackfillRunning)
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

// scanBackfill lists originals after the persisted cursor and enqueues the
// presets each lacks, saving the cursor and counts after every batch so a
// restart resumes where it stopped.
func (s *Service) scanBackfill(ctx context.Context, b *backfillRow) error {
	set, err := s.presets.Current(ctx)
	if err != nil {
		return err
	}
	var want []string
	for _, p := range b.Presets {
		if _, ok := set.Get(p); ok {
			want = append(want, p)
		}
	}
	all := set.Names()
	slices.Sort(all)
	batch := 0
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
			// The job renders the stale presets only, unless that is all of them.
			subset := slices.Sorted(slices.Values(stale))
			if slices.Equal(subset, all) {
				subset = nil
			}
			if _, err := s.enqueue(ctx, obj, "backfill", subset, b.ID); err != nil {
				return err
			}
		}
		b.Cursor = obj.Key
		if batch++; batch%backfillBatch == 0 {
			if err := s.saveBackfill(ctx, b, false); err != nil {
				return err
			}
		}
	}
	return s.saveBackfill(ctx, b, true)
}
