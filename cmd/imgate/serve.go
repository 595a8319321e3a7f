package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/auth"
	"github.com/imgate/imgate/gateway/companion"
	"github.com/imgate/imgate/gateway/cors"
	"github.com/imgate/imgate/gateway/jobs"
	"github.com/imgate/imgate/gateway/jobsapi"
	"github.com/imgate/imgate/gateway/s3api"
	"github.com/imgate/imgate/gateway/secrets"
	"github.com/imgate/imgate/gateway/sigv4"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/storage/fs"
	"github.com/imgate/imgate/gateway/storage/s3"
	"github.com/imgate/imgate/gateway/uploads"
	"github.com/imgate/imgate/gateway/uploadtoken"
	"github.com/imgate/imgate/gateway/webhooks"
	"github.com/imgate/imgate/resizer"
)

func init() {
	register("serve", "run the gateway: S3 upload surface, resize workers, admin API", runServe)
}

// serveConfig is every setting of `imgate serve`, parsed once by
// parseServeConfig: the command line, then IMGATE_* variables, then the
// --config file, then the defaults in define.
type serveConfig struct {
	config, listen, data, bucket, backend                   string
	s3Endpoint, s3Region, s3AccessKey, s3SecretKey, s3Token string
	s3SSL, s3PathStyle, publicVariants                      bool
	region, database, cacheControl, allowedTypes, publicURL string
	logFormat, logLevel                                     string
	corsOrigins, nodeID, webhookURLs, webhookSecret         string
	workers, maxConcurrentUploads                           int
	jobTimeout, reconcileInterval, shutdownTimeout          time.Duration
	maxUploadBytes, maxPixels, maxSourceBytes               int64
	accessKey, secretKey, adminToken, apiKey, eventsToken   string
	tokenSecret                                             string

	// Untrusted clients: body pacing and per-client upload caps.
	bodyIdleTimeout     time.Duration
	bodyMinRate         int64
	maxUploadsPerClient int
	multipartExpiry     time.Duration

	// From the --config file only.
	presets []resizer.Preset // "sizes" / "presets": seeds the preset store
	keys    auth.KeysFile    // "keys" / "api_keys": extra static credentials
}

func (f *serveConfig) define(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "JSON config file: any flag below by name, plus \"sizes\" (classic [\"50x50\",\"150x\",\"x150\"]), \"presets\" and \"keys\" (extra static S3 keys)")
	fs.StringVar(&f.listen, "listen", defaultListen, "address to serve HTTP on (S3 API, /v1 API, admin API, /metrics)")
	fs.StringVar(&f.data, "data", defaultDataDir, "data directory: fs objects, the SQLite job store and secrets.json")
	fs.StringVar(&f.bucket, "bucket", "imgate", "bucket NAME: originals in NAME-original, variants in NAME-resized/PRESET/KEY")
	fs.StringVar(&f.backend, "storage", "fs", "storage backend: fs (files under --data) or s3 (MinIO, AWS S3 or any S3 server)")
	fs.StringVar(&f.s3Endpoint, "s3-endpoint", "", "S3 endpoint host[:port] for --storage s3 (e.g. 127.0.0.1:9000, s3.amazonaws.com)")
	fs.StringVar(&f.s3Region, "s3-region", "us-east-1", "region of the S3 backend")
	fs.StringVar(&f.s3AccessKey, "s3-access-key", "", "access key for the S3 backend")
	fs.StringVar(&f.s3SecretKey, "s3-secret-key", "", "secret key for the S3 backend")
	fs.StringVar(&f.s3Token, "s3-session-token", "", "session token for the S3 backend (temporary credentials)")
	fs.BoolVar(&f.s3SSL, "s3-ssl", false, "use HTTPS to reach the S3 backend")
	fs.BoolVar(&f.s3PathStyle, "s3-path-style", true, "path-style bucket addressing on the backend (MinIO); false lets minio-go choose (AWS: virtual-host)")
	fs.StringVar(&f.region, "region", "us-east-1", "region imgate's own S3 API answers for (clients sign with it)")
	fs.StringVar(&f.database, "database", "", "job store: empty for SQLite in --data, or postgres://… so several imgate processes share one queue")
	fs.IntVar(&f.workers, "workers", runtime.GOMAXPROCS(0), "resize workers in this process")
	fs.StringVar(&f.nodeID, "node-id", "", "stable identity of this process on a shared --database: after a crash it takes back its own interrupted jobs at once (default: host name + hash of --data and --listen)")
	fs.DurationVar(&f.jobTimeout, "job-timeout", 2*time.Minute, "deadline of one resize job")
	fs.DurationVar(&f.reconcileInterval, "reconcile-interval", 0, "scan NAME-original for objects with missing or stale variants this often (0: only on demand)")
	fs.StringVar(&f.cacheControl, "cache-control", jobs.DefaultCacheControl, "Cache-Control header stored on every variant")
	fs.Int64Var(&f.maxUploadBytes, "max-upload-bytes", 100<<20, "largest object accepted through the gateway, in bytes")
	fs.IntVar(&f.maxConcurrentUploads, "max-concurrent-uploads", 64, "uploads handled at once; more are refused with 503 SlowDown")
	fs.IntVar(&f.maxUploadsPerClient, "max-uploads-per-client", 0, "uploads one access key or one remote address may have in flight (0: half of --max-concurrent-uploads)")
	fs.DurationVar(&f.bodyIdleTimeout, "body-idle-timeout", s3api.DefaultBodyIdleTimeout, "cut a request body that sends nothing for this long (slowloris)")
	fs.Int64Var(&f.bodyMinRate, "body-min-rate", s3api.DefaultBodyMinRate, "cut a request body whose average rate falls under this many bytes/s after a 10 s grace (0: off)")
	fs.DurationVar(&f.multipartExpiry, "multipart-expiry", storage.DefaultMultipartExpiry, "abort incomplete multipart uploads (and remove their parts) this long after they started (0: never)")
	fs.StringVar(&f.allowedTypes, "allowed-types", strings.Join(resizer.ContentTypes(), ","), "content types accepted (sniffed from the bytes, not the header), comma-separated; the default is every type the resizer decodes")
	fs.Int64Var(&f.maxSourceBytes, "max-source-bytes", 100<<20, "largest original the resizer reads (it holds the encoded file in memory); bigger originals are stored but their jobs fail with a clear reason")
	fs.Int64Var(&f.maxPixels, "max-pixels", 50_000_000, "largest source image in pixels; bigger ones fail before decoding")
	fs.StringVar(&f.publicURL, "public-url", "", "base URL clients reach imgate at, used in presigned URLs (default http://LISTEN)")
	fs.BoolVar(&f.publicVariants, "public-variants", false, "let anyone GET/HEAD NAME-resized without signing (originals never): <img src> thumbnails, CDN origins")
	fs.StringVar(&f.corsOrigins, "cors-origins", "", "page origins allowed to call imgate from a browser, comma-separated (https://app.example,http://localhost:3000; * for any); empty: same-origin only")
	fs.StringVar(&f.webhookURLs, "webhook-url", "", "URLs to POST image.processed / image.failed webhooks to (Standard Webhooks), comma-separated")
	fs.StringVar(&f.webhookSecret, "webhook-secret", "", "whsec_… key signing webhooks (prefer env IMGATE_WEBHOOK_SECRET; generated when unset)")
	fs.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long in-flight requests may take to finish on SIGINT/SIGTERM")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	// Secrets: flags exist so env and config file work through the same path, but
	// prefer the environment (IMGATE_ACCESS_KEY, …): command lines are visible to other users.
	fs.StringVar(&f.accessKey, "access-key", "", "root S3 access key (prefer env IMGATE_ACCESS_KEY; generated and stored in DATA/secrets.json when unset)")
	fs.StringVar(&f.secretKey, "secret-key", "", "root S3 secret key (prefer env IMGATE_SECRET_KEY; generated when unset)")
	fs.StringVar(&f.adminToken, "admin-token", "", "bearer token of the admin API (env IMGATE_ADMIN_TOKEN; generated when unset)")
	fs.StringVar(&f.apiKey, "api-key", "", "bearer key of /v1/uploads and /v1/credentials (env IMGATE_API_KEY; generated when unset)")
	fs.StringVar(&f.eventsToken, "events-token", "", "bearer token MinIO's webhook sends to /v1/events/s3 (env IMGATE_EVENTS_TOKEN; generated when unset)")
	fs.StringVar(&f.tokenSecret, "token-secret", "", "key signing temporary credentials; set the same value on every node sharing a --database (env IMGATE_TOKEN_SECRET; generated when unset)")
}

// validate reports every invalid setting at once.
func (f *serveConfig) validate() error {
	var p []string
	if f.listen == "" {
		p = append(p, "--listen must not be empty")
	}
	if f.data == "" {
		p = append(p, "--data must not be empty")
	}
	if err := storage.ValidateBucket(f.bucket + "-original"); err != nil {
		p = append(p, fmt.Sprintf("--bucket %q: buckets %q-original and -resized must be valid S3 bucket names (3–63 chars of a-z, 0-9, '-', '.')", f.bucket, f.bucket))
	}
	switch f.backend {
	case "fs":
	case "s3":
		if f.s3Endpoint == "" {
			p = append(p, "--storage s3 needs --s3-endpoint")
		}
		if f.s3AccessKey == "" || f.s3SecretKey == "" {
			p = append(p, "--storage s3 needs --s3-access-key and --s3-secret-key (or IMGATE_S3_ACCESS_KEY / IMGATE_S3_SECRET_KEY)")
		}
		if strings.Contains(f.s3Endpoint, "://") {
			p = append(p, fmt.Sprintf("--s3-endpoint %q: give host[:port] only; use --s3-ssl for https", f.s3Endpoint))
		}
	default:
		p = append(p, fmt.Sprintf("--storage %q: must be fs or s3", f.backend))
	}
	if f.database != "" && !strings.HasPrefix(f.database, "postgres://") && !strings.HasPrefix(f.database, "postgresql://") {
		p = append(p, "--database: must be a postgres:// URL (leave empty for SQLite in --data)")
	}
	if f.workers < 0 {
		p = append(p, "--workers must be ≥ 0")
	}
	p = append(p, f.nodeIDProblems()...)
	if f.jobTimeout <= 0 {
		p = append(p, "--job-timeout must be positive")
	}
	if f.reconcileInterval < 0 {
		p = append(p, "--reconcile-interval must be ≥ 0")
	}
	p = append(p, f.validateUploads()...)
	if f.maxSourceBytes <= 0 {
		p = append(p, "--max-source-bytes must be positive")
	}
	if f.maxPixels <= 0 {
		p = append(p, "--max-pixels must be positive")
	}
	if f.publicURL != "" {
		if u, err := url.Parse(f.publicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p = append(p, fmt.Sprintf("--public-url %q: must be an http(s) URL", f.publicURL))
		}
	}
	if _, err := cors.Parse(splitList(f.corsOrigins)); err != nil {
		p = append(p, "--cors-origins: "+strings.TrimPrefix(err.Error(), "cors: "))
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		p = append(p, fmt.Sprintf("--log-format %q: must be text or json", f.logFormat))
	}
	if _, err := parseLevel(f.logLevel); err != nil {
		p = append(p, err.Error())
	}
	p = append(p, f.secretProblems()...)
	if len(p) > 0 {
		return &usageError{"invalid settings:\n  " + strings.Join(p, "\n  ")}
	}
	return nil
}

// validateUploads checks the settings that bound uploads.
func (f *serveConfig) validateUploads() []string {
	var p []string
	if f.maxUploadBytes <= 0 {
		p = append(p, "--max-upload-bytes must be positive")
	}
	if f.maxConcurrentUploads <= 0 {
		p = append(p, "--max-concurrent-uploads must be positive")
	}
	if f.maxUploadsPerClient < 0 {
		p = append(p, "--max-uploads-per-client must be ≥ 0")
	}
	if f.bodyIdleTimeout <= 0 {
		p = append(p, "--body-idle-timeout must be positive")
	}
	if f.multipartExpiry < 0 {
		p = append(p, "--multipart-expiry must be ≥ 0")
	}
	if f.bodyMinRate < 0 {
		p = append(p, "--body-min-rate must be ≥ 0")
	}
	return p
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level %q: must be debug, info, warn or error", s)
	}
	return l, nil
}

func newLogger(w io.Writer, format, level string) *slog.Logger {
	lvl, _ := parseLevel(level)
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// parseServeConfig reads the settings of `imgate serve` once: flags, env
// and the --config file (whose nested keys give the seed presets and the
// extra keys), then checks them all.
func parseServeConfig(args []string, usageOut io.Writer) (*serveConfig, error) {
	f := &serveConfig{}
	fset := newFlagSet("serve", "[flags]", "Serve the S3-compatible upload gateway, the /v1 upload API and the admin API,\nand resize every image that lands in NAME-original into NAME-resized/PRESET/KEY.", usageOut)
	f.define(fset)
	file, err := parseFlags(fset, args)
	if err != nil {
		return nil, err
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	if f.presets, err = file.presets(); err != nil {
		return nil, &usageError{err.Error()}
	}
	if f.keys, err = file.keys(); err != nil {
		return nil, &usageError{err.Error()}
	}
	return f, nil
}

// workerCount is --workers, with 0 meaning one per CPU.
func (f *serveConfig) workerCount() int {
	if f.workers == 0 {
		return runtime.GOMAXPROCS(0)
	}
	return f.workers
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServeConfig(args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.logFormat, cfg.logLevel)
	if err := os.MkdirAll(cfg.data, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	sec, generated, err := secrets.Resolve(filepath.Join(cfg.data, secrets.FileName), secrets.Secrets{
		AccessKey: cfg.accessKey, SecretKey: cfg.secretKey, AdminToken: cfg.adminToken,
		APIKey: cfg.apiKey, EventsToken: cfg.eventsToken, TokenSecret: cfg.tokenSecret, WebhookSecret: cfg.webhookSecret,
	})
	if err != nil {
		return err
	}
	st, err := buildStorage(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	hooks, err := webhooks.New(webhooks.Config{URLs: splitList(cfg.webhookURLs), Secret: sec.WebhookSecret,
		Storage: st.store, Logger: log.With("component", "webhooks")})
	if err != nil {
		return &usageError{err.Error()}
	}
	jobSvc, err := buildJobs(ctx, cfg, st.store, hooks, log, reg)
	if err != nil {
		return err
	}
	srv, addr, err := buildHTTP(cfg, st, jobSvc, hooks, sec, log, reg)
	if err != nil {
		return err
	}
	if cfg.multipartExpiry > 0 {
		go storage.SweepMultipart(ctx, st.store, cfg.bucket+"-original", cfg.multipartExpiry, log.With("component", "s3"))
	}
	if err := jobSvc.Start(ctx); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	printStartup(stdout, addr, cfg, sec, generated)
	log.Info("imgate serving", "addr", addr, "storage", cfg.backend, "bucket", cfg.bucket,
		"job_store", jobStoreName(cfg.database), "workers", cfg.workerCount())

	serveErr := srv.Serve(ctx)
	stopCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := jobSvc.Stop(stopCtx); err != nil {
		log.Warn("stopping workers", "err", err)
	}
	if serveErr != nil && !errors.Is(serveErr, context.Canceled) {
		return serveErr
	}
	log.Info("imgate stopped")
	return nil
}

// backend is the opened storage: presigner is nil when the backend cannot
// presign (fs); close releases it.
type backend struct {
	store     storage.Storage
	presigner storage.Presigner
	close     func()
}

// buildStorage opens the --storage backend and makes sure both buckets
// exist.
func buildStorage(ctx context.Context, cfg *serveConfig) (backend, error) {
	b := backend{close: func() {}}
	switch cfg.backend {
	case "fs":
		st, err := fs.New(filepath.Join(cfg.data, "objects"))
		if err != nil {
			return b, fmt.Errorf("open fs storage: %w", err)
		}
		b.store, b.close = st, func() { _ = st.Close() }
	case "s3":
		st, err := s3.New(ctx, s3.Config{
			Endpoint: cfg.s3Endpoint, Region: cfg.s3Region, AccessKey: cfg.s3AccessKey, SecretKey: cfg.s3SecretKey,
			SessionToken: cfg.s3Token, UseSSL: cfg.s3SSL, PathStyle: cfg.s3PathStyle,
		})
		if err != nil {
			return b, fmt.Errorf("open s3 storage: %w", err)
		}
		b.store, b.presigner = st, st
	}
	for _, name := range []string{cfg.bucket + "-original", cfg.bucket + "-resized"} {
		if err := b.store.EnsureBucket(ctx, name); err != nil {
			b.close()
			return b, fmt.Errorf("bucket %s: %w (create it, or give credentials allowed to)", name, err)
		}
	}
	return b, nil
}

// buildJobs opens the job store (SQLite in --data or --database) with its
// workers, not yet started.
func buildJobs(ctx context.Context, cfg *serveConfig, store storage.Storage, hooks *webhooks.Service, log *slog.Logger, reg *prometheus.Registry) (*jobs.Service, error) {
	rs := resizer.New(resizer.Options{Limits: resizer.Limits{MaxPixels: cfg.maxPixels, MaxBytes: cfg.maxSourceBytes}})
	jc := jobs.Config{
		Storage: store, Bucket: cfg.bucket, DatabaseURL: cfg.database,
		SQLitePath: filepath.Join(cfg.data, "jobs.db"), Resizer: rs, Workers: cfg.workerCount(),
		JobTimeout: cfg.jobTimeout, CacheControl: cfg.cacheControl, ReconcileInterval: cfg.reconcileInterval,
		SeedPresets: cfg.presets, Logger: log, Registerer: reg, NodeID: cfg.nodeIdentity(),
	}
	hooks.JobsConfig(&jc) // image documents and webhook deliveries, in the outcome's transaction
	jobSvc, err := jobs.Open(ctx, jc)
	if err != nil {
		return nil, fmt.Errorf("open job store: %w", err)
	}
	hooks.Attach(jobSvc.DB())
	return jobSvc, nil
}

// buildHTTP makes the server with every route mounted and its listener
// open; it returns the address listened on.
func buildHTTP(cfg *serveConfig, st backend, jobSvc *jobs.Service, hooks *webhooks.Service, sec secrets.Secrets, log *slog.Logger, reg *prometheus.Registry) (*gateway.Server, string, error) {
	authStore, err := auth.NewStore(auth.Config{
		RootAccessKey: sec.AccessKey, RootSecretKey: sec.SecretKey, Keys: cfg.keys.Keys, APIKeys: cfg.keys.APIKeys,
		TokenSecret: []byte(sec.TokenSecret),
	})
	if err != nil {
		return nil, "", &usageError{fmt.Sprintf("credentials: %v", err)}
	}
	s3h, err := s3api.New(s3api.Config{
		Storage: st.store, Bucket: cfg.bucket, Region: cfg.region,
		Verifier: &sigv4.Verifier{Region: cfg.region, Lookup: authStore.Lookup}, Auth: authStore,
		MaxObjectBytes: cfg.maxUploadBytes, MaxConcurrentUploads: cfg.maxConcurrentUploads,
		AllowedContentTypes: splitList(cfg.allowedTypes), MaxUploadsPerClient: cfg.maxUploadsPerClient,
		BodyIdleTimeout: cfg.bodyIdleTimeout, BodyMinRate: minRateOrOff(cfg.bodyMinRate),
		PublicVariants: cfg.publicVariants, RenderMissing: jobSvc.RenderMissing,
		SiblingFormats: jobSvc.SiblingFormats,
		Hooks: s3api.Hooks{
			Uploaded: func(ctx context.Context, obj storage.ObjectInfo) error { return jobSvc.Enqueue(ctx, obj, "gateway") },
			Deleted:  jobSvc.Deleted,
		},
		Logger: log.With("component", "s3"), Registerer: reg,
	})
	if err != nil {
		return nil, "", fmt.Errorf("s3 api: %w", err)
	}
	corsPolicy, _ := cors.Parse(splitList(cfg.corsOrigins)) // checked in validate
	srv, err := gateway.New(gateway.Config{
		Addr: cfg.listen, Logger: log, Registry: reg, ShutdownTimeout: cfg.shutdownTimeout, CORS: corsPolicy,
		Ready: map[string]gateway.Checker{"storage": st.store, "jobs": jobSvc},
	})
	if err != nil {
		return nil, "", err
	}
	addr, err := srv.Listen()
	if err != nil {
		return nil, "", err
	}
	publicURL := cfg.publicURL
	if publicURL == "" {
		publicURL = "http://" + addr.String()
	}
	tokens, err := uploadtoken.NewSigner([]byte(sec.TokenSecret))
	if err != nil {
		return nil, "", &usageError{fmt.Sprintf("token secret: %v", err)}
	}
	up, err := uploads.New(uploads.Config{
		APIKeys: []string{sec.APIKey}, Auth: authStore, Bucket: cfg.bucket, Region: cfg.region,
		PublicURL: publicURL, Backend: st.presigner, Logger: log.With("component", "uploads"), Tokens: tokens,
	})
	if err != nil {
		return nil, "", fmt.Errorf("uploads api: %w", err)
	}
	comp, err := companion.New(companion.Config{Tokens: tokens, Auth: authStore, S3: s3h, Bucket: cfg.bucket,
		Region: cfg.region, PublicURL: publicURL, Logger: log.With("component", "companion")})
	if err != nil {
		return nil, "", fmt.Errorf("companion routes: %w", err)
	}
	jobsHTTP := jobsapi.New(jobsapi.Config{Jobs: jobSvc, AdminToken: sec.AdminToken, EventsToken: sec.EventsToken, Logger: log})
	srv.Mount(gateway.Routes{S3: s3h, Uploads: up, Admin: jobsHTTP.Admin(), Events: jobsHTTP.Events(), Companion: comp,
		Images: hooks.Handler(webhooks.HTTPConfig{Bucket: cfg.bucket, APIKeys: []string{sec.APIKey}, Auth: authStore,
			Tokens: tokens, AdminToken: sec.AdminToken, Jobs: jobSvc})})
	return srv, addr.String(), nil
}

// minRateOrOff maps --body-min-rate 0 (off) to s3api's "off" (negative).
func minRateOrOff(n int64) int64 {
	if n == 0 {
		return -1
	}
	return n
}

func jobStoreName(db string) string {
	if db == "" {
		return "sqlite"
	}
	return "postgres"
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// printStartup tells a newcomer where things are; generated secrets are
// printed this once (they are in DATA/secrets.json afterwards).
func printStartup(w io.Writer, addr string, f *serveConfig, sec secrets.Secrets, generated []string) {
	fmt.Fprintf(w, "imgate listening on http://%s (S3 API, /v1, admin API)\n", addr)
	fmt.Fprintf(w, "  originals: %s-original   variants: %s-resized/PRESET/KEY   storage: %s\n", f.bucket, f.bucket, f.backend)
	if len(generated) == 0 {
		return
	}
	fmt.Fprintf(w, "Generated credentials (stored 0600 in %s; shown only now):\n", filepath.Join(f.data, secrets.FileName))
	for _, g := range generated {
		switch g {
		case "access_key":
			fmt.Fprintf(w, "  IMGATE_ACCESS_KEY=%s\n", sec.AccessKey)
		case "secret_key":
			fmt.Fprintf(w, "  IMGATE_SECRET_KEY=%s\n", sec.SecretKey)
		case "admin_token":
			fmt.Fprintf(w, "  IMGATE_ADMIN_TOKEN=%s\n", sec.AdminToken)
		case "api_key":
			fmt.Fprintf(w, "  IMGATE_API_KEY=%s\n", sec.APIKey)
		case "events_token":
			fmt.Fprintf(w, "  IMGATE_EVENTS_TOKEN=%s\n", sec.EventsToken)
		}
	}
}
