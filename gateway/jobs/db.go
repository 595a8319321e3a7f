package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// dialect is the SQL flavour of the job store.
type dialect int

const (
	dialectSQLite dialect = iota + 1
	dialectPostgres
)

// db wraps the database/sql handle used for imgate's own tables (the River
// tables are managed by River). Queries are written with '?' placeholders and
// rewritten to $N for PostgreSQL.
type db struct {
	sql     *sql.DB
	dialect dialect
}

func (d *db) q(query string) string {
	if d.dialect != dialectPostgres {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

func (d *db) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return d.sql.ExecContext(ctx, d.q(query), args...)
}

func (d *db) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return d.sql.QueryContext(ctx, d.q(query), args...)
}

func (d *db) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return d.sql.QueryRowContext(ctx, d.q(query), args...)
}

// insertID runs an INSERT that creates one row with an auto-increment id and returns the id.
func (d *db) insertID(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := d.queryRow(ctx, query+" RETURNING id", args...).Scan(&id)
	return id, err
}

// migrations of imgate's own tables, per dialect. Each entry runs once, in order.
func (d *db) migrations() []string {
	serial := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if d.dialect == dialectPostgres {
		serial = "BIGSERIAL PRIMARY KEY"
	}
	return []string{
		// 1: presets, jobs, variants, errors, backfills, events.
		`CREATE TABLE IF NOT EXISTS imgate_preset_sets (
			version BIGINT PRIMARY KEY,
			created_at BIGINT NOT NULL,
			presets TEXT NOT NULL
		);
		CREATE TABLE IF NOT EXISTS imgate_jobs (
			id BIGINT PRIMARY KEY,
			state TEXT NOT NULL,
			source TEXT NOT NULL,
			bucket TEXT NOT NULL,
			okey TEXT NOT NULL,
			etag TEXT NOT NULL,
			preset_version BIGINT NOT NULL,
			presets TEXT NOT NULL,
			attempt INTEGER NOT NULL DEFAULT 0,
			max_attempts INTEGER NOT NULL DEFAULT 0,
			created_at BIGINT NOT NULL,
			started_at BIGINT,
			finished_at BIGINT,
			duration_ms BIGINT NOT NULL DEFAULT 0,
			error TEXT NOT NULL DEFAULT '',
			node TEXT NOT NULL DEFAULT '',
			bytes_in BIGINT NOT NULL DEFAULT 0,
			bytes_out BIGINT NOT NULL DEFAULT 0
		);
		CREATE INDEX IF NOT EXISTS imgate_jobs_key ON imgate_jobs (okey);
		CREATE INDEX IF NOT EXISTS imgate_jobs_state ON imgate_jobs (state, id);
		CREATE INDEX IF NOT EXISTS imgate_jobs_finished ON imgate_jobs (finished_at);
		CREATE TABLE IF NOT EXISTS imgate_job_variants (
			job_id BIGINT NOT NULL,
			preset TEXT NOT NULL,
			vkey TEXT NOT NULL,
			width INTEGER NOT NULL,
			height INTEGER NOT NULL,
			bytes BIGINT NOT NULL,
			ms BIGINT NOT NULL,
			at BIGINT NOT NULL,
			PRIMARY KEY (job_id, preset)
		);
		CREATE INDEX IF NOT EXISTS imgate_job_variants_at ON imgate_job_variants (preset, at);
		CREATE TABLE IF NOT EXISTS imgate_job_errors (
			id ` + serial + `,
			job_id BIGINT NOT NULL,
			attempt INTEGER NOT NULL,
			at BIGINT NOT NULL,
			error TEXT NOT NULL
		);
		CREATE INDEX IF NOT EXISTS imgate_job_errors_job ON imgate_job_errors (job_id);
		CREATE TABLE IF NOT EXISTS imgate_backfills (
			id ` + serial + `,
			state TEXT NOT NULL,
			presets TEXT NOT NULL,
			delete_removed INTEGER NOT NULL DEFAULT 0,
			preset_version BIGINT NOT NULL,
			total BIGINT NOT NULL DEFAULT 0,
			skipped BIGINT NOT NULL DEFAULT 0,
			scanned INTEGER NOT NULL DEFAULT 0,
			cursor TEXT NOT NULL DEFAULT '',
			lease_node TEXT NOT NULL DEFAULT '',
			lease_until BIGINT NOT NULL DEFAULT 0,
			started_at BIGINT NOT NULL,
			finished_at BIGINT,
			error TEXT NOT NULL DEFAULT ''
		);
		CREATE TABLE IF NOT EXISTS imgate_backfill_jobs (
			backfill_id BIGINT NOT NULL,
			job_id BIGINT NOT NULL,
			PRIMARY KEY (backfill_id, job_id)
		);
		CREATE TABLE IF NOT EXISTS imgate_events (
			id ` + serial + `,
			at BIGINT NOT NULL,
			type TEXT NOT NULL,
			payload TEXT NOT NULL
		);`,
	}
}

// migrate creates or upgrades imgate's tables. On PostgreSQL it holds an
// advisory lock so that nodes starting together do not race.
func (d *db) migrate(ctx context.Context, riverMigrate func(context.Context) error) error {
	if d.dialect == dialectSQLite {
		// One connection only: River's migrator must run before we hold it.
		if err := riverMigrate(ctx); err != nil {
			return err
		}
	}
	conn, err := d.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	defer conn.Close()
	if d.dialect == dialectPostgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(74656101)"); err != nil {
			return fmt.Errorf("jobs: migrate lock: %w", err)
		}
		defer func() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(74656101)")
		}()
		// River's migrator uses its own pool connections; the lock above serialises nodes.
		if err := riverMigrate(ctx); err != nil {
			return err
		}
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS imgate_schema (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	var have int
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM imgate_schema`).Scan(&have); err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	for i, m := range d.migrations() {
		v := i + 1
		if v <= have {
			continue
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("jobs: migrate %d: %w", v, err)
		}
		for stmt := range strings.SplitSeq(m, ";") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				_ = tx.Rollback()
				return fmt.Errorf("jobs: migrate %d: %w", v, err)
			}
		}
		if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO imgate_schema (version) VALUES (?)`), v); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("jobs: migrate %d: %w", v, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("jobs: migrate %d: %w", v, err)
		}
	}
	return nil
}

func nowMS() int64 { return time.Now().UnixMilli() }

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func msPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := msTime(v.Int64)
	return &t
}
