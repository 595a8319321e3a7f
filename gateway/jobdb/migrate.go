package jobdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// migrations of imgate's own tables, per dialect. Each entry runs once, in order.
func (d *DB) migrations() []string {
	serial := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if d.Dialect == Postgres {
		serial = "BIGSERIAL PRIMARY KEY"
	}
	return []string{
		// 1: presets, jobs, variants, errors, backfills, events.
		jobTables(serial) + backfillAndEventTables(serial),
		// 2: a job's state is River's; imgate keeps only the outcomes it
		// decides itself (completed, cancelled by an operator), written in the
		// same transaction as River's change.
		`ALTER TABLE imgate_jobs ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
		UPDATE imgate_jobs SET outcome = state WHERE state IN ('completed', 'cancelled');
		DROP INDEX IF EXISTS imgate_jobs_state;
		ALTER TABLE imgate_jobs DROP COLUMN state`,
		// 3: the image document of each original's last outcome (webhooks,
		// GET /v1/images/{key}), written in the transaction of that outcome.
		`CREATE TABLE IF NOT EXISTS imgate_images (
			bucket TEXT NOT NULL,
			okey TEXT NOT NULL,
			etag TEXT NOT NULL,
			status TEXT NOT NULL,
			doc TEXT NOT NULL,
			updated_at BIGINT NOT NULL,
			PRIMARY KEY (bucket, okey)
		)`,
	}
}

func jobTables(serial string) string {
	return `CREATE TABLE IF NOT EXISTS imgate_preset_sets (
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
		CREATE INDEX IF NOT EXISTS imgate_job_errors_job ON imgate_job_errors (job_id);`
}

func backfillAndEventTables(serial string) string {
	return `
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
		);`
}

// Migrate creates or upgrades imgate's tables after running River's
// migrations (riverMigrate). On PostgreSQL it holds an advisory lock so that
// nodes starting together do not race.
func (d *DB) Migrate(ctx context.Context, riverMigrate func(context.Context) error) error {
	if d.Dialect == SQLite {
		// One connection only: River's migrator must run before we hold it.
		if err := riverMigrate(ctx); err != nil {
			return err
		}
	}
	conn, err := d.SQL.Conn(ctx)
	if err != nil {
		return fmt.Errorf("jobdb: migrate: %w", err)
	}
	defer conn.Close()
	if d.Dialect == Postgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(74656101)"); err != nil {
			return fmt.Errorf("jobdb: migrate lock: %w", err)
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
		return fmt.Errorf("jobdb: migrate: %w", err)
	}
	var have int
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM imgate_schema`).Scan(&have); err != nil {
		return fmt.Errorf("jobdb: migrate: %w", err)
	}
	for i, m := range d.migrations() {
		if v := i + 1; v > have {
			if err := d.apply(ctx, conn, v, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// apply runs migration v in one transaction.
func (d *DB) apply(ctx context.Context, conn interface {
	BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
}, v int, m string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobdb: migrate %d: %w", v, err)
	}
	defer func() { _ = tx.Rollback() }()
	for stmt := range strings.SplitSeq(m, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("jobdb: migrate %d: %w", v, err)
		}
	}
	if _, err := tx.ExecContext(ctx, d.Q(`INSERT INTO imgate_schema (version) VALUES (?)`), v); err != nil {
		return fmt.Errorf("jobdb: migrate %d: %w", v, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("jobdb: migrate %d: %w", v, err)
	}
	return nil
}
