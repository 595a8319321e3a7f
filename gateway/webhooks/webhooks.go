// Package webhooks tells apps when an image's variants are ready. On a
// resize job's final outcome (jobs.Config.Finished, inside the transaction
// that records it) it stores the image document (GET /v1/images/{key}) and
// inserts one delivery per --webhook-url as a River job in the same
// transaction: deliveries survive restarts, retry with backoff and keep
// their webhook-id on every attempt (at-least-once). Requests are signed per
// the Standard Webhooks spec (webhook-id, webhook-timestamp,
// webhook-signature "v1,<base64 HMAC-SHA256>" with a whsec_ secret).
package webhooks

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/riverqueue/river"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/imgate/imgate/gateway/jobdb"
	"github.com/imgate/imgate/gateway/jobs"
	"github.com/imgate/imgate/gateway/storage"
)

// Event types.
const (
	TypeProcessed = "image.processed"
	TypeFailed    = "image.failed"
)

// Image is the document of one original: the webhook's data and the answer
// of GET /v1/images/{key}.
type Image struct {
	Bucket      string       `json:"bucket"`
	Key         string       `json:"key"`
	ETag        string       `json:"etag"`
	Status      string       `json:"status"` // processed, failed (GET also: pending)
	Error       string       `json:"error,omitempty"`
	Variants    []Variant    `json:"variants,omitempty"`
	Placeholder *Placeholder `json:"placeholder,omitempty"`
	FinishedAt  *time.Time   `json:"finished_at,omitempty"`
}

// Variant is one rendered preset.
type Variant struct {
	Preset string `json:"preset"`
	Format string `json:"format"`
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int64  `json:"bytes"`
}

// Event is a webhook's body (Standard Webhooks: type, timestamp, data).
type Event struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      Image     `json:"data"`
}

// Config configures the service.
type Config struct {
	URLs    []string // --webhook-url; none: documents only
	Secret  string   // whsec_… (IMGATE_WEBHOOK_SECRET)
	Storage storage.Storage
	Client  *http.Client // nil: a client with a 15 s timeout
	Logger  *slog.Logger
	// Retry is the delay before attempt n+1 after n failures (nil: 2^(n-1) s, at most 10 min, jittered).
	Retry func(n int) time.Duration
}

// Service stores image documents and delivers webhooks.
type Service struct {
	cfg    Config
	signer *standardwebhooks.Webhook
	db     *jobdb.DB
}

// New checks the URLs and the secret.
func New(cfg Config) (*Service, error) {
	for _, u := range cfg.URLs {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("webhooks: URL %q must be an absolute http(s) URL", u)
		}
	}
	signer, err := standardwebhooks.NewWebhook(cfg.Secret)
	if err != nil {
		return nil, fmt.Errorf("webhooks: secret must be whsec_ followed by base64: %w", err)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Retry == nil {
		cfg.Retry = backoff
	}
	return &Service{cfg: cfg, signer: signer}, nil
}

// Attach gives the service the job store's database (after jobs.Open).
func (s *Service) Attach(db *jobdb.DB) { s.db = db }

// JobsConfig fills the hooks of jobs.Config: the Finished hook and the
// delivery worker on its own queue.
func (s *Service) JobsConfig(c *jobs.Config) {
	c.Finished = s.finished
	c.AddWorkers = func(w *river.Workers) error { return river.AddWorkerSafely(w, &deliveryWorker{s: s}) }
	c.Queues = map[string]river.QueueConfig{queue: {MaxWorkers: 8}}
}

// document builds the image document of a job's outcome.
func document(f jobs.Finished, at time.Time) Image {
	img := Image{Bucket: f.Bucket, Key: f.Key, ETag: f.ETag, Status: "processed", FinishedAt: &at}
	if !f.OK {
		img.Status, img.Error = "failed", f.Reason
		return img
	}
	img.Variants = make([]Variant, 0, len(f.Variants))
	for _, v := range f.Variants {
		format := v.Format // siblings (avif, webp) carry theirs
		if format == "" {
			format = f.Formats[v.Key]
		}
		img.Variants = append(img.Variants, Variant{Preset: v.Preset, Format: format, Bucket: f.Resized,
			Key: v.Key, Width: v.Width, Height: v.Height, Bytes: v.Bytes})
	}
	img.Placeholder = placeholder(f.Thumb)
	return img
}

// finished stores the document and queues its deliveries, in the
// transaction that records the job's outcome.
func (s *Service) finished(ctx context.Context, tx jobs.FinishedTx, f jobs.Finished) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	img := document(f, now)
	doc, err := json.Marshal(img)
	if err != nil {
		return fmt.Errorf("webhooks: encode document: %w", err)
	}
	if err := tx.Exec(ctx, `INSERT INTO imgate_images (bucket, okey, etag, status, doc, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (bucket, okey) DO UPDATE SET etag = excluded.etag, status = excluded.status, doc = excluded.doc, updated_at = excluded.updated_at`,
		f.Bucket, f.Key, f.ETag, img.Status, string(doc), now.UnixMilli()); err != nil {
		return fmt.Errorf("webhooks: store document: %w", err)
	}
	typ := TypeProcessed
	if !f.OK {
		typ = TypeFailed
	}
	payload, err := json.Marshal(Event{Type: typ, Timestamp: now, Data: img})
	if err != nil {
		return fmt.Errorf("webhooks: encode event: %w", err)
	}
	for i, u := range s.cfg.URLs {
		// One id per event and endpoint, the same on every retry.
		id := fmt.Sprintf("msg_%d_%d_%d_%s", f.JobID, f.Attempt, i, typ[len("image."):])
		if err := tx.Insert(ctx, deliveryArgs{ID: id, URL: u, Type: typ, Bucket: f.Bucket, Key: f.Key, Payload: payload}); err != nil {
			return fmt.Errorf("webhooks: queue delivery: %w", err)
		}
	}
	return nil
}

// ErrNoDocument is returned by Lookup when no outcome is recorded for the key.
var ErrNoDocument = errors.New("webhooks: no document")

// Lookup returns the stored document of bucket/key.
func (s *Service) Lookup(ctx context.Context, bucket, key string) (Image, error) {
	var doc string
	err := s.db.QueryRow(ctx, `SELECT doc FROM imgate_images WHERE bucket = ? AND okey = ?`, bucket, key).Scan(&doc)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Image{}, ErrNoDocument
		}
		return Image{}, fmt.Errorf("webhooks: read document: %w", err)
	}
	var img Image
	if err := json.Unmarshal([]byte(doc), &img); err != nil {
		return Image{}, fmt.Errorf("webhooks: decode document: %w", err)
	}
	return img, nil
}
