// Package jobdb is the job store's database handle: SQLite (the embedded
// default) or PostgreSQL, one dialect-neutral way to write queries ('?'
// placeholders, rewritten to $N for PostgreSQL) and imgate's own migrations.
// River's tables live in the same database and are migrated by River.
package jobdb

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"
)

// Dialect is the SQL flavour of the job store.
type Dialect int

// The supported dialects.
const (
	SQLite Dialect = iota + 1
	Postgres
)

// DB is the database/sql handle used for imgate's own tables.
type DB struct {
	SQL     *sql.DB
	Dialect Dialect
}

// Q rewrites '?' placeholders for the dialect.
func (d *DB) Q(query string) string {
	if d.Dialect != Postgres {
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

// Exec runs a statement outside any transaction.
func (d *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return d.SQL.ExecContext(ctx, d.Q(query), args...)
}

// Query runs a query outside any transaction.
func (d *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return d.SQL.QueryContext(ctx, d.Q(query), args...)
}

// QueryRow runs a one-row query outside any transaction.
func (d *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return d.SQL.QueryRowContext(ctx, d.Q(query), args...)
}

// InsertID runs an INSERT that creates one row with an auto-increment id and returns the id.
func (d *DB) InsertID(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := d.QueryRow(ctx, query+" RETURNING id", args...).Scan(&id)
	return id, err
}

// NowMS is the current time in Unix milliseconds (how times are stored).
func NowMS() int64 { return time.Now().UnixMilli() }

// MSTime converts stored milliseconds to a UTC time.
func MSTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// MSPtr converts a nullable stored time.
func MSPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := MSTime(v.Int64)
	return &t
}

// IsConflict reports whether err is a unique-constraint violation.
func IsConflict(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	for _, sub := range []string{"UNIQUE constraint", "duplicate key", "SQLSTATE 23505", "constraint failed"} {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
