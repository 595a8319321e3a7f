// Package gateway assembles imgate's HTTP server: the S3 surface, the /v1
// JSON APIs, the admin API, event intake, health checks and metrics, behind
// one mux with request logging, panic recovery and graceful shutdown.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/imgate/imgate/gateway/cors"
	"github.com/imgate/imgate/internal/httpjson"
)

// Checker reports whether a dependency (storage, job store) is reachable.
type Checker interface {
	Ping(ctx context.Context) error
}

// Routes are the handlers the server mounts. Nil handlers are not mounted.
type Routes struct {
	S3      http.Handler // "/" — path-style S3 and STS
	Uploads http.Handler // "/v1/uploads", "/v1/credentials", "/v1/upload-tokens"
	Admin   http.Handler // "/v1/admin/"
	Events  http.Handler // "/v1/events/s3"
	// Companion serves Uppy's Companion S3 routes under "/v1/companion/{token}/s3/".
	Companion http.Handler
	// Images serves "/v1/images/" and "/v1/admin/webhooks".
	Images http.Handler
}

// Config configures a Server.
type Config struct {
	Addr   string
	Routes Routes
	// Ready lists the dependencies /readyz checks, by name.
	Ready    map[string]Checker
	Logger   *slog.Logger
	Registry *prometheus.Registry
	// ShutdownTimeout bounds how long in-flight requests may take to finish.
	ShutdownTimeout time.Duration
	// CORS lists the page origins allowed to call the gateway (zero: none).
	CORS cors.Policy
}

// Limits on request headers: a client that trickles its headers (header
// slowloris) is cut after ReadHeaderTimeout; presigned URLs with a session
// token fit well inside MaxHeaderBytes (request line included).
const (
	ReadHeaderTimeout = 10 * time.Second
	MaxHeaderBytes    = 64 << 10
)

// Server is the running HTTP server.
type Server struct {
	cfg      Config
	mux      *http.ServeMux
	srv      *http.Server
	ln       net.Listener
	draining atomic.Bool
	reqs     *prometheus.CounterVec
	dur      *prometheus.HistogramVec
}

// New builds the server and its mux.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	s := &Server{cfg: cfg}
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imgate_http_requests_total", Help: "HTTP requests by route and status class.",
	}, []string{"route", "code"})
	s.dur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "imgate_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
	}, []string{"route"})
	if err := cfg.Registry.Register(s.reqs); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	if err := cfg.Registry.Register(s.dur); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}

	mux := http.NewServeMux()
	s.mux = mux
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{Registry: cfg.Registry}))
	s.Mount(cfg.Routes)
	s.srv = &http.Server{
		Addr:              cfg.Addr,
		Handler:           s.recoverer(cfg.CORS.Handler(mux)),
		ReadHeaderTimeout: ReadHeaderTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Mount adds the non-nil handlers of r to the mux. Call it before Serve
// (handlers that need the bound address are built after Listen).
func (s *Server) Mount(r Routes) {
	mux := s.mux
	if r.Uploads != nil {
		mux.Handle("/v1/uploads", s.instrument("uploads", r.Uploads))
		mux.Handle("/v1/credentials", s.instrument("credentials", r.Uploads))
		mux.Handle("/v1/upload-tokens", s.instrument("upload-tokens", r.Uploads))
	}
	if r.Admin != nil {
		mux.Handle("/v1/admin/", s.instrument("admin", r.Admin))
	}
	if r.Events != nil {
		mux.Handle("/v1/events/s3", s.instrument("events", r.Events))
	}
	if r.Images != nil {
		mux.Handle("/v1/images/", s.instrument("images", r.Images))
		mux.Handle("/v1/admin/webhooks", s.instrument("admin", r.Images))
	}
	if r.Companion != nil {
		mux.Handle("/v1/companion/", s.instrument("companion", r.Companion))
	}
	if r.S3 != nil {
		mux.Handle("/", s.instrument("s3", r.S3))
	}
}

// Listen binds the address (so callers learn a bind error before logging "listening").
func (s *Server) Listen() (net.Addr, error) {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	return ln.Addr(), nil
}

// Serve serves until ctx is cancelled, then shuts down gracefully: /readyz
// turns 503, new connections are refused, in-flight requests get up to
// ShutdownTimeout to finish.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		if _, err := s.Listen(); err != nil {
			return err
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		httpjson.Write(w, http.StatusServiceUnavailable, map[string]string{"status": "shutting down"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	out := map[string]string{}
	ok := true
	for name, c := range s.cfg.Ready {
		if err := c.Ping(ctx); err != nil {
			ok = false
			out[name] = "unavailable"
			s.cfg.Logger.Warn("readiness check failed", "dependency", name, "err", err)
			continue
		}
		out[name] = "ok"
	}
	if !ok {
		httpjson.Write(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "checks": out})
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"status": "ok", "checks": out})
}

// statusRecorder captures the status code for metrics and logs.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and deadlines (SSE needs Flush).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush forwards to the underlying writer (for SSE and streaming responses).
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		d := time.Since(start)
		s.reqs.WithLabelValues(route, fmt.Sprintf("%dxx", rec.code/100)).Inc()
		s.dur.WithLabelValues(route).Observe(d.Seconds())
		lvl := slog.LevelDebug
		if rec.code >= 500 {
			lvl = slog.LevelWarn
		}
		s.cfg.Logger.Log(r.Context(), lvl, "request", "route", route, "method", r.Method,
			"path", r.URL.Path, "status", rec.code, "duration_ms", d.Milliseconds(), "remote", r.RemoteAddr)
	})
}

// recoverer turns a handler panic into a 500 and a log line with the stack,
// so one bad request never takes the process down.
func (s *Server) recoverer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.cfg.Logger.Error("panic in handler", "panic", v, "path", r.URL.Path, "stack", string(debug.Stack()))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		h.ServeHTTP(w, r)
	})
}
