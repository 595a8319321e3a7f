// Package jobs turns stored originals into their preset variants, durably.
//
// Every trigger — an upload through the gateway (Enqueue), an S3 event
// notification (EventsHandler), the reconcile scan, a backfill — ends in the
// same River job whose identity is (bucket, key, ETag, preset version, preset
// subset): River's unique jobs collapse duplicate triggers into one job. The
// queue lives in SQLite (the embedded default, riversqlite + modernc) or in
// PostgreSQL (riverpgxv5), where many imgate processes share one queue.
//
// Next to River's tables the package keeps its own (same database, its own
// migrations): versioned presets, a per-job record with per-variant output and
// the error history, backfills with a persisted cursor, and an event log with
// monotonically increasing ids that feeds the admin API's Server-Sent Events.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/resizer"
)

// Config configures the job service. Zero values are the documented defaults.
type Config struct {
	Storage           storage.Storage
	Bucket            string // NAME: originals in NAME-original, variants in NAME-resized
	DatabaseURL       string // "" → SQLite at SQLitePath; "postgres://…" → PostgreSQL
	SQLitePath        string // e.g. DATA/jobs.db
	Resizer           *resizer.Resizer
	Workers           int           // 0 → GOMAXPROCS
	JobTimeout        time.Duration // 0 → 2 min
	MaxAttempts       int           // 0 → 10
	CacheControl      string        // on variants; default "public, max-age=31536000"
	ReconcileInterval time.Duration // 0 → off (on demand only)
	SeedPresets       []resizer.Preset
	AdminToken        string
	EventsToken       string
	Logger            *slog.Logger
	Registerer        prometheus.Registerer // may be nil

	// EventRetention is how many events the log keeps (0 → 10000).
	EventRetention int
	// RescueAfter is how long a job may stay running before another worker
	// takes it over (after a crash); 0 → JobTimeout + max(5 s, JobTimeout/4).
	// River's rescuer looks every 30 s, so a job interrupted by a crash runs
	// again at most RescueAfter + 30 s later.
	RescueAfter time.Duration
}

const (
	defaultCacheControl = "public, max-age=31536000"
	jobKind             = "imgate.resize"

	metaSourceETag    = "imgate-source-etag"
	metaPresetVersion = "imgate-preset-version"
	metaPreset        = "imgate-preset"
	metaSourceKey     = "imgate-source-key"
)

// Service runs the resize queue and serves the admin and event APIs.
type Service struct {
	cfg     Config
	log     *slog.Logger
	db      *db
	pool    *pgxpool.Pool // PostgreSQL only
	queue   queue
	presets *presetStore
	events  *eventLog
	metrics *metrics
	node    string

	original, resized string

	mu      sync.Mutex
	runCtx  context.Context // lives from Start to Stop
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started bool

	// testHookResize, when set (tests only), runs before the resizer.
	testHookResize func(key string)
}

// queue is the part of a River client the service uses; *river.Client[*sql.Tx]
// and *river.Client[pgx.Tx] both implement it.
type queue interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobCancel(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobDelete(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Open connects to the job store, runs River's and imgate's migrations and
// seeds the presets. It does not start working: call Start.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Storage == nil {
		return nil, errors.New("jobs: Config.Storage is required")
	}
	if cfg.Resizer == nil {
		return nil, errors.New("jobs: Config.Resizer is required")
	}
	if cfg.Bucket == "" {
		cfg.Bucket = "imgate"
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = 2 * time.Minute
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.CacheControl == "" {
		cfg.CacheControl = defaultCacheControl
	}
	if cfg.EventRetention <= 0 {
		cfg.EventRetention = 10000
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = cfg.JobTimeout + max(5*time.Second, cfg.JobTimeout/4)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	host, _ := os.Hostname()
	s := &Service{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "jobs"),
		node:     fmt.Sprintf("%s:%d", host, os.Getpid()),
		original: cfg.Bucket + "-original",
		resized:  cfg.Bucket + "-resized",
	}
	if err := storage.ValidateBucket(s.original); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &resizeWorker{s: s}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	rcfg := &river.Config{
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:              workers,
		JobTimeout:           cfg.JobTimeout,
		MaxAttempts:          cfg.MaxAttempts,
		RescueStuckJobsAfter: cfg.RescueAfter,
		RetryPolicy:          retryPolicy{},
		ErrorHandler:         &errorHandler{s: s},
		FetchPollInterval:    500 * time.Millisecond,
		FetchCooldown:        50 * time.Millisecond,
		Logger:               s.log.With("component", "river"),
		// Completed and failed jobs keep their uniqueness for a week.
		CompletedJobRetentionPeriod: 7 * 24 * time.Hour,
		CancelledJobRetentionPeriod: 7 * 24 * time.Hour,
		DiscardedJobRetentionPeriod: 7 * 24 * time.Hour,
		ID:                          strings.NewReplacer(":", "_", ".", "_").Replace(s.node),
	}
	var riverMigrate func(context.Context) error
	switch {
	case strings.HasPrefix(cfg.DatabaseURL, "postgres://") || strings.HasPrefix(cfg.DatabaseURL, "postgresql://"):
		pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("jobs: postgres: %w", err)
		}
		s.pool = pool
		s.db = &db{sql: stdlib.OpenDBFromPool(pool), dialect: dialectPostgres}
		drv := riverpgxv5.New(pool)
		client, err := river.NewClient(drv, rcfg)
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("jobs: river: %w", err)
		}
		s.queue = client
		riverMigrate = riverMigrator(drv, s.log)
	case cfg.DatabaseURL == "":
		if cfg.SQLitePath == "" {
			return nil, errors.New("jobs: Config.SQLitePath is required without DatabaseURL")
		}
		dsn := "file:" + cfg.SQLitePath + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"
		sqlDB, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("jobs: sqlite: %w", err)
		}
		// SQLite allows one writer; River's docs recommend one connection.
		sqlDB.SetMaxOpenConns(1)
		s.db = &db{sql: sqlDB, dialect: dialectSQLite}
		drv := riversqlite.New(sqlDB)
		client, err := river.NewClient(drv, rcfg)
		if err != nil {
			sqlDB.Close()
			return nil, fmt.Errorf("jobs: river: %w", err)
		}
		s.queue = client
		riverMigrate = riverMigrator(drv, s.log)
	default:
		return nil, errors.New("jobs: DatabaseURL must be empty (SQLite) or a postgres:// URL")
	}
	if err := s.db.migrate(ctx, riverMigrate); err != nil {
		s.close()
		return nil, err
	}
	s.presets = &presetStore{db: s.db, ttl: 2 * time.Second}
	seed := cfg.SeedPresets
	if len(seed) == 0 {
		seed = resizer.DefaultPresets()
	}
	if err := s.presets.seed(ctx, seed); err != nil {
		s.close()
		return nil, err
	}
	s.events = newEventLog(s.db, cfg.EventRetention)
	s.events.log = s.log
	s.metrics = newMetrics(cfg.Registerer)
	return s, nil
}

func (s *Service) close() {
	if s.db != nil {
		_ = s.db.sql.Close()
	}
	if s.pool != nil {
		s.pool.Close()
	}
}

// Start starts the workers and the background loops (reconcile interval,
// backfill runner, event-log pruning, gauges). Backfills interrupted by a
// restart resume here.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("jobs: already started")
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if err := s.queue.Start(runCtx); err != nil {
		cancel()
		return fmt.Errorf("jobs: start river: %w", err)
	}
	s.cancel = cancel
	s.runCtx = runCtx
	s.started = true
	s.loop(runCtx, 5*time.Second, s.refreshGauges)
	s.loop(runCtx, time.Minute, func(ctx context.Context) { s.events.prune(ctx) })
	s.loop(runCtx, 2*time.Second, s.runBackfills)
	if s.cfg.ReconcileInterval > 0 {
		s.loop(runCtx, s.cfg.ReconcileInterval, func(ctx context.Context) {
			if res, err := s.Reconcile(ctx); err != nil {
				s.log.WarnContext(ctx, "reconcile scan failed", "err", err)
			} else if res.Enqueued > 0 {
				s.log.InfoContext(ctx, "reconcile scan", "scanned", res.Scanned, "enqueued", res.Enqueued)
			}
		})
	}
	return nil
}

// loop runs fn every interval (first run after one interval) until ctx ends.
func (s *Service) loop(ctx context.Context, every time.Duration, fn func(context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fn(ctx)
			}
		}
	}()
}

// Stop stops taking jobs, waits for running ones until ctx ends, then closes
// the store.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	started := s.started
	s.started = false
	s.mu.Unlock()
	var err error
	if started {
		err = s.queue.Stop(ctx)
		s.cancel()
		s.wg.Wait()
	}
	s.close()
	if err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

// Ping reports whether the job store answers.
func (s *Service) Ping(ctx context.Context) error {
	if err := s.db.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("jobs: ping: %w", err)
	}
	return nil
}

// Enqueue records the resize job of an original. It is idempotent: the same
// (bucket, key, ETag, preset version) collapses into one job. It returns only
// once the job is durably recorded. source is "gateway", "webhook",
// "reconcile", "backfill" or "retry".
func (s *Service) Enqueue(ctx context.Context, obj storage.ObjectInfo, source string) error {
	_, err := s.enqueue(ctx, obj, source, nil, 0)
	return err
}

// enqueue inserts a job for presets (nil = all of the current version). It
// returns the job row (new or the existing duplicate).
func (s *Service) enqueue(ctx context.Context, obj storage.ObjectInfo, source string, presets []string, backfillID int64) (*rivertype.JobInsertResult, error) {
	if obj.Bucket == "" {
		obj.Bucket = s.original
	}
	if obj.Bucket != s.original {
		return nil, fmt.Errorf("jobs: enqueue: bucket %q is not %q", obj.Bucket, s.original)
	}
	if err := storage.ValidateKey(obj.Key); err != nil {
		return nil, fmt.Errorf("jobs: enqueue: %w", err)
	}
	set, err := s.presets.current(ctx)
	if err != nil {
		return nil, err
	}
	args := resizeArgs{
		Bucket: obj.Bucket, Key: obj.Key, ETag: normETag(obj.ETag),
		PresetVersion: set.Version, Presets: presets, Source: source, BackfillID: backfillID,
	}
	res, err := s.queue.Insert(ctx, args, nil)
	if err != nil {
		return nil, fmt.Errorf("jobs: enqueue %s: %w", obj.Key, err)
	}
	if res.UniqueSkippedAsDuplicate {
		s.log.DebugContext(ctx, "duplicate trigger collapsed", "key", obj.Key, "source", source, "job", res.Job.ID)
		return res, nil
	}
	names := presets
	if len(names) == 0 {
		names = set.names()
	}
	if err := s.recordQueued(ctx, res.Job, args, names); err != nil {
		// The River job exists; the worker recreates the record if this failed.
		s.log.WarnContext(ctx, "record queued job", "job", res.Job.ID, "err", err)
	}
	s.metrics.jobs.WithLabelValues("queued").Inc()
	return res, nil
}

// Deleted deletes every preset's variant of an original (after the original
// was deleted) and forgets its finished jobs, so re-uploading identical bytes
// processes them again.
func (s *Service) Deleted(ctx context.Context, bucket, key string) error {
	if bucket != s.original {
		return nil
	}
	if err := storage.ValidateKey(key); err != nil {
		return fmt.Errorf("jobs: deleted: %w", err)
	}
	names, err := s.presets.allNames(ctx)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := s.cfg.Storage.Delete(ctx, s.resized, name+"/"+key); err != nil {
			return fmt.Errorf("jobs: delete variant %s/%s: %w", name, key, err)
		}
	}
	// Waiting jobs of the deleted original would only fail: cancel them.
	waiting, err := s.jobIDs(ctx, bucket, key, adminapi.StateQueued, adminapi.StateRetrying)
	if err != nil {
		return err
	}
	for _, id := range waiting {
		row, err := s.queue.JobCancel(ctx, id)
		if err != nil && !errors.Is(err, rivertype.ErrNotFound) {
			s.log.WarnContext(ctx, "cancel job of deleted original", "job", id, "err", err)
			continue
		}
		if row != nil && row.State == rivertype.JobStateRunning {
			continue // the worker notices the original is gone
		}
		if err := s.setState(ctx, id, adminapi.StateCancelled, ""); err != nil {
			s.log.WarnContext(ctx, "cancel job of deleted original", "job", id, "err", err)
		}
	}
	ids, err := s.jobIDs(ctx, bucket, key, adminapi.StateCompleted, adminapi.StateFailed, adminapi.StateCancelled)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.forgetJob(ctx, id); err != nil {
			s.log.WarnContext(ctx, "forget finished job", "job", id, "err", err)
		}
	}
	s.log.InfoContext(ctx, "variants deleted", "key", key, "presets", len(names))
	return nil
}

// settleWait bounds how long an operator action waits for River to finalize
// a job the worker already reported finished (River completes asynchronously).
const settleWait = 5 * time.Second

// forgetJob deletes a finished River job, waiting for River to finalize it.
func (s *Service) forgetJob(ctx context.Context, id int64) error {
	deadline := time.Now().Add(settleWait)
	for {
		_, err := s.queue.JobDelete(ctx, id)
		switch {
		case err == nil, errors.Is(err, rivertype.ErrNotFound):
			return nil
		case !errors.Is(err, rivertype.ErrJobRunning) || time.Now().After(deadline):
			return fmt.Errorf("jobs: delete job %d: %w", id, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// retryJob makes a finished River job available again, waiting for River to
// finalize it first.
func (s *Service) retryJob(ctx context.Context, id int64) error {
	deadline := time.Now().Add(settleWait)
	for {
		row, err := s.queue.JobRetry(ctx, id)
		if err != nil {
			return err
		}
		if row.State != rivertype.JobStateRunning {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("jobs: job %d is still running", id)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// normETag strips quotes and lower-cases an ETag.
func normETag(e string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(e), `"`))
}

// AdminHandler serves the admin API (mount at /v1/admin/; it matches full paths).
func (s *Service) AdminHandler() http.Handler { return s.adminHandler() }

// EventsHandler serves POST /v1/events/s3 (S3 event notifications).
func (s *Service) EventsHandler() http.Handler { return http.HandlerFunc(s.serveS3Events) }

// riverMigrator returns a function that runs River's own migrations up on
// drv (pgx or database/sql: the driver's transaction type differs).
func riverMigrator[TTx any](drv riverdriver.Driver[TTx], log *slog.Logger) func(context.Context) error {
	return func(ctx context.Context) error {
		m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: log})
		if err != nil {
			return fmt.Errorf("jobs: river migrate: %w", err)
		}
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("jobs: river migrate: %w", err)
		}
		return nil
	}
}
