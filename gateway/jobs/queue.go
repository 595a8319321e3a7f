package jobs

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/imgate/imgate/gateway/jobdb"
)

// queue is River plus transactions that span River's tables and imgate's:
// every change of a job's state that imgate makes happens in one of these,
// together with the matching change of imgate's own rows. It hides River's
// transaction type (*sql.Tx for SQLite, pgx.Tx for PostgreSQL).
type queue interface {
	inTx(ctx context.Context, fn func(tx txn) error) error
	start(ctx context.Context) error
	stop(ctx context.Context) error
	// subscribe delivers River's events about jobs this process worked,
	// sent after River committed the job's new state.
	subscribe() (<-chan *river.Event, func())
	// list lists River's jobs (any kind).
	list(ctx context.Context, params *river.JobListParams) ([]*rivertype.JobRow, error)
}

// txn is one open transaction of the job store.
type txn interface {
	exec(ctx context.Context, query string, args ...any) (int64, error)
	queryRow(ctx context.Context, query string, args ...any) scanner
	insert(ctx context.Context, args river.JobArgs) (*rivertype.JobInsertResult, error)
	cancel(ctx context.Context, id int64) (*rivertype.JobRow, error)
	retry(ctx context.Context, id int64) (*rivertype.JobRow, error)
	remove(ctx context.Context, id int64) (*rivertype.JobRow, error)
	// complete marks the job (run by this worker) completed.
	complete(ctx context.Context, job *river.Job[resizeArgs]) error
}

type scanner interface{ Scan(dest ...any) error }

// txDriver is what differs between the two transaction types.
type txDriver[TTx any] interface {
	begin(ctx context.Context) (TTx, error)
	commit(ctx context.Context, tx TTx) error
	rollback(ctx context.Context, tx TTx)
	exec(ctx context.Context, tx TTx, query string, args ...any) (int64, error)
	queryRow(ctx context.Context, tx TTx, query string, args ...any) scanner
	complete(ctx context.Context, tx TTx, job *river.Job[resizeArgs]) error
}

type riverQueue[TTx any] struct {
	client *river.Client[TTx]
	drv    txDriver[TTx]
}

func (q *riverQueue[TTx]) start(ctx context.Context) error { return q.client.Start(ctx) }
func (q *riverQueue[TTx]) stop(ctx context.Context) error  { return q.client.Stop(ctx) }

func (q *riverQueue[TTx]) subscribe() (<-chan *river.Event, func()) {
	return q.client.SubscribeConfig(&river.SubscribeConfig{
		// Large: a dropped event only costs a line in the admin event log.
		ChanSize: 10_000,
		Kinds:    []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled},
	})
}

func (q *riverQueue[TTx]) list(ctx context.Context, params *river.JobListParams) ([]*rivertype.JobRow, error) {
	res, err := q.client.JobList(ctx, params)
	if err != nil {
		return nil, err
	}
	return res.Jobs, nil
}

func (q *riverQueue[TTx]) inTx(ctx context.Context, fn func(tx txn) error) error {
	tx, err := q.drv.begin(ctx)
	if err != nil {
		return fmt.Errorf("jobs: begin: %w", err)
	}
	defer q.drv.rollback(context.WithoutCancel(ctx), tx)
	if err := fn(&boundTx[TTx]{q: q, tx: tx}); err != nil {
		return err
	}
	if err := q.drv.commit(ctx, tx); err != nil {
		return fmt.Errorf("jobs: commit: %w", err)
	}
	return nil
}

type boundTx[TTx any] struct {
	q  *riverQueue[TTx]
	tx TTx
}

func (b *boundTx[TTx]) exec(ctx context.Context, query string, args ...any) (int64, error) {
	return b.q.drv.exec(ctx, b.tx, query, args...)
}

func (b *boundTx[TTx]) queryRow(ctx context.Context, query string, args ...any) scanner {
	return b.q.drv.queryRow(ctx, b.tx, query, args...)
}

func (b *boundTx[TTx]) insert(ctx context.Context, args river.JobArgs) (*rivertype.JobInsertResult, error) {
	return b.q.client.InsertTx(ctx, b.tx, args, nil)
}

func (b *boundTx[TTx]) cancel(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return b.q.client.JobCancelTx(ctx, b.tx, id)
}

func (b *boundTx[TTx]) retry(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return b.q.client.JobRetryTx(ctx, b.tx, id)
}

func (b *boundTx[TTx]) remove(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return b.q.client.JobDeleteTx(ctx, b.tx, id)
}

func (b *boundTx[TTx]) complete(ctx context.Context, job *river.Job[resizeArgs]) error {
	return b.q.drv.complete(ctx, b.tx, job)
}

// sqliteTx drives database/sql transactions (riversqlite).
type sqliteTx struct{ db *jobdb.DB }

func (d sqliteTx) begin(ctx context.Context) (*sql.Tx, error) { return d.db.SQL.BeginTx(ctx, nil) }
func (d sqliteTx) commit(_ context.Context, tx *sql.Tx) error { return tx.Commit() }
func (d sqliteTx) rollback(_ context.Context, tx *sql.Tx)     { _ = tx.Rollback() }

func (d sqliteTx) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, d.db.Q(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d sqliteTx) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) scanner {
	return tx.QueryRowContext(ctx, d.db.Q(query), args...)
}

func (d sqliteTx) complete(ctx context.Context, tx *sql.Tx, job *river.Job[resizeArgs]) error {
	_, err := river.JobCompleteTx[*riversqlite.Driver](ctx, tx, job)
	return err
}

// pgxTx drives pgx transactions (riverpgxv5).
type pgxTx struct {
	db   *jobdb.DB
	pool *pgxpool.Pool
}

func (d pgxTx) begin(ctx context.Context) (pgx.Tx, error)   { return d.pool.Begin(ctx) }
func (d pgxTx) commit(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) }
func (d pgxTx) rollback(ctx context.Context, tx pgx.Tx)     { _ = tx.Rollback(ctx) }
func (d pgxTx) queryRow(ctx context.Context, tx pgx.Tx, query string, args ...any) scanner {
	return tx.QueryRow(ctx, d.db.Q(query), args...)
}

func (d pgxTx) exec(ctx context.Context, tx pgx.Tx, query string, args ...any) (int64, error) {
	tag, err := tx.Exec(ctx, d.db.Q(query), args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (d pgxTx) complete(ctx context.Context, tx pgx.Tx, job *river.Job[resizeArgs]) error {
	_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
	return err
}
