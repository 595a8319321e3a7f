package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/imgate/imgate/gateway/jobdb"
)

// Crash recovery. River rescues a job left running by a dead process only
// after RescueAfter (job timeout + margin) plus its rescuer's interval: minutes
// in which the last uploads before a crash have no variants. A process that
// knows the jobs were its own, and that it is their only owner, can take them
// back at start:
//
//   - SQLite: one process per data directory, enforced by a flock on
//     DATA/jobs.db.lock. Every job running at start was the previous
//     process's, so all of them are made available again at once.
//   - PostgreSQL: each node has a stable identity (Config.NodeID), River's
//     client ID, so River records it in the jobs' attempted_by. A session
//     advisory lock on the identity proves no live process holds it; the node
//     then makes its own running jobs (last attempted by it) available at
//     once. Other nodes' jobs wait for River's rescuer, as before.

// errLocked reports that another process holds the data directory's lock.
var errLocked = errors.New("locked by another process")

// advisoryNamespace is the first key of imgate's node advisory locks.
const advisoryNamespace = 0x696d67 // "img"

// lockSQLite enforces one process per SQLite store.
func (s *Service) lockSQLite() error {
	path := s.cfg.SQLitePath + ".lock"
	f, err := lockFile(path)
	if errors.Is(err, errLocked) {
		return fmt.Errorf("jobs: another imgate process is using this data directory (%s is locked); "+
			"run one process per --data, or share a --database postgres://… between processes", path)
	}
	if err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	s.lock = f
	s.ownsRunning = true
	return nil
}

// claimNode takes the PostgreSQL advisory lock of the node identity on a
// connection held until Stop. When another session holds it (a live process
// with the same --node-id, or a crashed one PostgreSQL has not noticed yet),
// this process runs under a unique suffixed identity and rescues nothing early.
func (s *Service) claimNode(ctx context.Context, pool *pgxpool.Pool) error {
	if s.cfg.NodeID == "" {
		return nil
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("jobs: postgres: %w", err)
	}
	var got bool
	err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, advisoryNamespace, "imgate-node:"+s.cfg.NodeID).Scan(&got)
	if err != nil {
		conn.Release()
		return fmt.Errorf("jobs: node lock: %w", err)
	}
	if !got {
		conn.Release()
		s.node = fmt.Sprintf("%s-%d", s.cfg.NodeID, os.Getpid())
		s.log.WarnContext(ctx, "node id is held by another live session; running under a temporary identity, "+
			"jobs interrupted by a crash of this process wait for the rescuer", "node_id", s.cfg.NodeID, "temporary", s.node)
		return nil
	}
	// Out of the pool: the lock lives as long as this connection.
	s.nodeConn = conn.Hijack()
	s.ownsRunning = true
	return nil
}

// releaseNode closes the connection that holds the node lock.
func (s *Service) releaseNode() {
	if s.nodeConn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.nodeConn.Close(ctx)
		s.nodeConn = nil
	}
	if s.lock != nil {
		_ = s.lock.Close()
		s.lock = nil
	}
}

// rescueOwn makes the jobs a previous process of this node left running
// available again, before River starts fetching. Jobs an operator asked to
// cancel, and jobs out of attempts, are left to River's rescuer.
func (s *Service) rescueOwn(ctx context.Context) error {
	if !s.ownsRunning {
		return nil
	}
	q := `UPDATE river_job SET state = 'available' WHERE state = 'running' AND attempt < max_attempts`
	var args []any
	if s.db.Dialect == jobdb.Postgres {
		q += ` AND attempted_by[array_length(attempted_by, 1)] = ? AND metadata->>'cancel_attempted_at' IS NULL`
		args = append(args, s.riverID())
	} else {
		q += ` AND json_extract(metadata, '$.cancel_attempted_at') IS NULL`
	}
	rows, err := s.db.Query(ctx, q+` RETURNING id, attempt`, args...)
	if err != nil {
		return fmt.Errorf("jobs: rescue interrupted jobs: %w", err)
	}
	type rescued struct{ id, attempt int64 }
	var list []rescued
	for rows.Next() {
		var r rescued
		if err := rows.Scan(&r.id, &r.attempt); err != nil {
			rows.Close()
			return fmt.Errorf("jobs: rescue interrupted jobs: %w", err)
		}
		list = append(list, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("jobs: rescue interrupted jobs: %w", err)
	}
	now := jobdb.NowMS()
	for _, r := range list {
		if _, err := s.db.Exec(ctx, `INSERT INTO imgate_job_errors (job_id, attempt, at, error) VALUES (?, ?, ?, ?)`,
			r.id, r.attempt, now, "interrupted: the process running it stopped; run again at restart"); err != nil {
			s.log.WarnContext(ctx, "record rescued job", "job", r.id, "err", err)
		}
	}
	if len(list) > 0 {
		s.log.InfoContext(ctx, "jobs interrupted by the previous process made available again", "jobs", len(list), "node", s.node)
	}
	return nil
}
