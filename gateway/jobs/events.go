package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/jobdb"
)

// eventLog is the persisted, append-only log of job events. Ids increase
// monotonically and are assigned in commit order (on PostgreSQL an advisory
// transaction lock serialises appends from all nodes), so a reader that saw
// id N and asks for ids > N never misses one. The newest `keep` events are
// kept.
type eventLog struct {
	db   *jobdb.DB
	keep int
	log  *slog.Logger

	mu   sync.Mutex
	wake chan struct{} // closed and replaced on every local append
}

func newEventLog(d *jobdb.DB, keep int) *eventLog {
	return &eventLog{db: d, keep: keep, wake: make(chan struct{})}
}

// changed returns a channel closed at the next local append.
func (l *eventLog) changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.wake
}

func (l *eventLog) notify() {
	l.mu.Lock()
	close(l.wake)
	l.wake = make(chan struct{})
	l.mu.Unlock()
}

// append stores ev (its ID and At are assigned here). Failures are logged:
// the event stream is best effort compared to the jobs themselves.
func (l *eventLog) append(ctx context.Context, ev adminapi.Event) {
	if _, err := l.insert(ctx, ev); err != nil && l.log != nil {
		l.log.WarnContext(ctx, "append event", "err", err)
	}
	l.notify()
}

func (l *eventLog) insert(ctx context.Context, ev adminapi.Event) (int64, error) {
	ev.ID = 0
	ev.At = jobdb.MSTime(jobdb.NowMS())
	payload, err := json.Marshal(ev)
	if err != nil {
		return 0, fmt.Errorf("jobs: encode event: %w", err)
	}
	if l.db.Dialect != jobdb.Postgres {
		return l.db.InsertID(ctx, `INSERT INTO imgate_events (at, type, payload) VALUES (?, ?, ?)`, ev.At.UnixMilli(), ev.Type, string(payload))
	}
	tx, err := l.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("jobs: append event: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(74656102)`); err != nil {
		return 0, fmt.Errorf("jobs: append event: %w", err)
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO imgate_events (at, type, payload) VALUES ($1, $2, $3) RETURNING id`,
		ev.At.UnixMilli(), ev.Type, string(payload)).Scan(&id); err != nil {
		return 0, fmt.Errorf("jobs: append event: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("jobs: append event: %w", err)
	}
	return id, nil
}

// after returns up to limit events with id > after, oldest first.
func (l *eventLog) after(ctx context.Context, after int64, limit int) ([]adminapi.Event, error) {
	rows, err := l.db.Query(ctx, `SELECT id, payload FROM imgate_events WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("jobs: read events: %w", err)
	}
	defer rows.Close()
	var out []adminapi.Event
	for rows.Next() {
		var (
			id      int64
			payload string
		)
		if err := rows.Scan(&id, &payload); err != nil {
			return nil, fmt.Errorf("jobs: read events: %w", err)
		}
		var ev adminapi.Event
		if err := json.Unmarshal([]byte(payload), &ev); err != nil {
			continue
		}
		ev.ID = id
		out = append(out, ev)
	}
	return out, rows.Err()
}

// last returns the newest event id (0 when empty).
func (l *eventLog) last(ctx context.Context) (int64, error) {
	var id int64
	if err := l.db.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM imgate_events`).Scan(&id); err != nil {
		return 0, fmt.Errorf("jobs: last event: %w", err)
	}
	return id, nil
}

// prune deletes all but the newest keep events.
func (l *eventLog) prune(ctx context.Context) {
	last, err := l.last(ctx)
	if err != nil || last <= int64(l.keep) {
		return
	}
	_, _ = l.db.Exec(ctx, `DELETE FROM imgate_events WHERE id <= ?`, last-int64(l.keep))
}

// LastEventID returns the id of the newest event in the log (0 when empty).
func (s *Service) LastEventID(ctx context.Context) (int64, error) { return s.events.last(ctx) }

// EventsAfter returns up to limit events with id > after, oldest first. The
// log holds the events of every node sharing the store.
func (s *Service) EventsAfter(ctx context.Context, after int64, limit int) ([]adminapi.Event, error) {
	return s.events.after(ctx, after, limit)
}

// EventsChanged returns a channel closed when this process appends the next
// event (other nodes' events are only seen by reading).
func (s *Service) EventsChanged() <-chan struct{} { return s.events.changed() }
