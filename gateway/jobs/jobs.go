// Package jobs turns stored originals into their preset variants, durably.
//
// Every trigger — an upload through the gateway (Enqueue), an S3 event
// notification (ObjectCreated), the reconcile scan, a backfill — ends in the
// same River job whose identity is (bucket, key, ETag, preset version, preset
// subset): River's unique jobs collapse duplicate triggers into one job. The
// queue lives in SQLite (the embedded default, riversqlite + modernc) or in
// PostgreSQL (riverpgxv5), where many imgate processes share one queue.
//
// A job's state is River's (see state.go). Next to River's tables the package
// keeps a per-job record with per-variant output and the error history,
// backfills with a persisted cursor, and an event log with monotonically
// increasing ids that feeds the admin API's Server-Sent Events. Presets are
// package presets; the HTTP surface is package jobsapi.
package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"golang.org/x/sync/singleflight"
	"log/slog"
	"maps"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/imgate/imgate/gateway/jobdb"
	"github.com/imgate/imgate/gateway/presets"
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
	CacheControl      string        // on variants; "" → DefaultCacheControl
	ReconcileInterval time.Duration // 0 → off (on demand only)
	SeedPresets       []resizer.Preset
	Logger            *slog.Logger
	Registerer        prometheus.Registerer // may be nil

	// NodeID is this process's stable identity on a shared PostgreSQL store
	// (River's client ID, recorded on the jobs it runs): a restarted node takes
	// back its own interrupted jobs at once. "" → host:pid, no early rescue.
	NodeID string

	// Finished, when set, runs inside the transaction that records a job's
	// final outcome (completed, or failed for good): what it writes through
	// tx commits with that outcome or not at all. (Webhooks use it.)
	Finished func(ctx context.Context, tx FinishedTx, f Finished) error
	// AddWorkers registers further River workers on the job store's client,
	// for the queues in Queues (e.g. webhook deliveries).
	AddWorkers func(*river.Workers) error
	Queues     map[string]river.QueueConfig

	// EventRetention is how many events the log keeps (0 → 10000).
	EventRetention int
	// RescueAfter is how long a job may stay running before another worker
	// takes it over (after a crash); 0 → JobTimeout + max(5 s, JobTimeout/4).
	// River's rescuer looks every 30 s, so a job interrupted by a crash runs
	// again at most RescueAfter + 30 s later.
	RescueAfter time.Duration
}

// DefaultCacheControl is the Cache-Control stored on variants unless
// configured otherwise (the serve flag's default too): a variant's key names
// its bytes for as long as the original's ETag and the preset stay the same.
const DefaultCacheControl = "public, max-age=31536000, immutable"

const (
	jobKind = "imgate.resize"

	metaSourceETag    = "imgate-source-etag"
	metaPresetVersion = "imgate-preset-version"
	metaAnimated      = "imgate-animated" // "true" on an animated primary: it has no AVIF sibling
	metaPreset        = "imgate-preset"
)

// Service runs the resize queue. Its exported methods are what the HTTP
// surface (package jobsapi) and the S3 API's hooks call.
type Service struct {
	cfg     Config
	log     *slog.Logger
	db      *jobdb.DB
	pool    *pgxpool.Pool // PostgreSQL only
	queue   queue
	presets *presets.Store
	lazy    singleflight.Group // lazy renders, one per preset + key (lazy.go)
	flights flights            // renders in progress, by original key (lazy.go)
	events  *eventLog
	metrics *metrics
	node    string

	// Crash recovery (node.go): the data directory's lock (SQLite), the
	// connection holding the node's advisory lock (PostgreSQL), and whether
	// the jobs running at start were this node's.
	lock        *os.File
	nodeConn    *pgx.Conn
	ownsRunning bool

	original, resized string

	mu      sync.Mutex
	runCtx  context.Context // lives from Start to Stop
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started bool

	// testHookResize, when set (tests only), runs before the resizer.
	testHookResize func(key string)
}

func (cfg *Config) defaults() {
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
		cfg.CacheControl = DefaultCacheControl
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
	cfg.defaults()
	host, _ := os.Hostname()
	s := &Service{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "jobs"),
		node:     cmp.Or(cfg.NodeID, fmt.Sprintf("%s:%d", host, os.Getpid())),
		original: cfg.Bucket + "-original",
		resized:  cfg.Bucket + "-resized",
	}
	if err := storage.ValidateBucket(s.original); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	riverMigrate, err := s.openQueue(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.db.Migrate(ctx, riverMigrate); err != nil {
		s.close()
		return nil, err
	}
	s.presets = presets.New(s.db, 2*time.Second)
	seed := cfg.SeedPresets
	if len(seed) == 0 {
		seed = resizer.DefaultPresets()
	}
	if err := s.presets.Seed(ctx, seed); err != nil {
		s.close()
		return nil, err
	}
	s.events = newEventLog(s.db, cfg.EventRetention)
	s.events.log = s.log
	s.metrics = newMetrics(cfg.Registerer)
	return s, nil
}

// riverConfig is River's configuration for this service.
func (s *Service) riverConfig() (*river.Config, error) {
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &resizeWorker{s: s}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: s.cfg.Workers}}
	if s.cfg.AddWorkers != nil {
		if err := s.cfg.AddWorkers(workers); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		maps.Copy(queues, s.cfg.Queues)
	}
	return &river.Config{
		Queues:               queues,
		Workers:              workers,
		JobTimeout:           s.cfg.JobTimeout,
		MaxAttempts:          s.cfg.MaxAttempts,
		RescueStuckJobsAfter: s.cfg.RescueAfter,
		RetryPolicy:          retryPolicy{},
		ErrorHandler:         &errorHandler{s: s},
		FetchPollInterval:    500 * time.Millisecond,
		FetchCooldown:        50 * time.Millisecond,
		Logger:               s.log.With("component", "river"),
		// Completed and failed jobs keep their uniqueness for a week.
		CompletedJobRetentionPeriod: 7 * 24 * time.Hour,
		CancelledJobRetentionPeriod: 7 * 24 * time.Hour,
		DiscardedJobRetentionPeriod: 7 * 24 * time.Hour,
		ID:                          s.riverID(),
	}, nil
}

// riverID is River's client ID for this node (River records it in a job's attempted_by).
func (s *Service) riverID() string {
	return strings.NewReplacer(":", "_", ".", "_").Replace(s.node)
}

// openQueue opens the database and River's client on it; it returns River's
// migration step.
func (s *Service) openQueue(ctx context.Context) (func(context.Context) error, error) {
	url := s.cfg.DatabaseURL
	switch {
	case strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://"):
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("jobs: postgres: %w", err)
		}
		s.pool = pool
		s.db = &jobdb.DB{SQL: stdlib.OpenDBFromPool(pool), Dialect: jobdb.Postgres}
		if err := s.claimNode(ctx, pool); err != nil {
			s.close()
			return nil, err
		}
		rcfg, err := s.riverConfig()
		if err != nil {
			s.close()
			return nil, err
		}
		drv := riverpgxv5.New(pool)
		client, err := river.NewClient(drv, rcfg)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("jobs: river: %w", err)
		}
		s.queue = &riverQueue[pgx.Tx]{client: client, drv: pgxTx{db: s.db, pool: pool}}
		return riverMigrator(drv, s.log), nil
	case url == "":
		if s.cfg.SQLitePath == "" {
			return nil, errors.New("jobs: Config.SQLitePath is required without DatabaseURL")
		}
		if err := s.lockSQLite(); err != nil {
			return nil, err
		}
		rcfg, err := s.riverConfig()
		if err != nil {
			s.close()
			return nil, err
		}
		dsn := "file:" + s.cfg.SQLitePath + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"
		sqlDB, err := sql.Open("sqlite", dsn)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("jobs: sqlite: %w", err)
		}
		// SQLite allows one writer; River's docs recommend one connection.
		sqlDB.SetMaxOpenConns(1)
		s.db = &jobdb.DB{SQL: sqlDB, Dialect: jobdb.SQLite}
		drv := riversqlite.New(sqlDB)
		client, err := river.NewClient(drv, rcfg)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("jobs: river: %w", err)
		}
		s.queue = &riverQueue[*sql.Tx]{client: client, drv: sqliteTx{db: s.db}}
		return riverMigrator(drv, s.log), nil
	default:
		return nil, errors.New("jobs: DatabaseURL must be empty (SQLite) or a postgres:// URL")
	}
}

func (s *Service) close() {
	if s.db != nil {
		_ = s.db.SQL.Close()
	}
	if s.pool != nil {
		s.pool.Close()
	}
	s.releaseNode()
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
	if err := s.rescueOwn(ctx); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	finished, unsubscribe := s.queue.subscribe()
	if err := s.queue.start(runCtx); err != nil {
		unsubscribe()
		cancel()
		return fmt.Errorf("jobs: start river: %w", err)
	}
	s.cancel = cancel
	s.runCtx = runCtx
	s.started = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer unsubscribe()
		s.announceFinished(runCtx, finished)
	}()
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
	s.warmSiblingEncoders(runCtx)
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

// background runs fn detached from the request that asked for it, stopped by Stop.
func (s *Service) background(fn func(ctx context.Context)) {
	s.mu.Lock()
	parent := s.runCtx
	s.mu.Unlock()
	if parent == nil {
		parent = context.Background()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(parent, 30*time.Minute)
		defer cancel()
		fn(ctx)
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
		err = s.queue.stop(ctx)
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
	if err := s.db.SQL.PingContext(ctx); err != nil {
		return fmt.Errorf("jobs: ping: %w", err)
	}
	return nil
}

// Presets is the preset store the jobs render from.
func (s *Service) Presets() *presets.Store { return s.presets }

// NormETag strips quotes and lower-cases an ETag (S3 events quote some).
func NormETag(e string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(e), `"`))
}

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
