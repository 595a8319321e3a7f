// Package adminapi holds the JSON wire types of imgate's admin API
// (/v1/admin/…), shared by the server (package jobsapi serves them) and the
// terminal dashboard (package admin reads them).
//
// Endpoints (all need "Authorization: Bearer <admin token>"; errors are
// {"error": {"code": "...", "message": "..."}} with a 4xx/5xx status):
//
//	GET    /v1/admin/jobs?state=S&prefix=P&since=RFC3339&limit=N&cursor=C  → JobList
//	GET    /v1/admin/jobs/{id}                                             → Job (with Variants and Errors)
//	POST   /v1/admin/jobs/{id}/retry                                       → Job
//	POST   /v1/admin/jobs/{id}/cancel                                      → Job
//	GET    /v1/admin/stats                                                 → Stats
//	GET    /v1/admin/presets                                               → PresetList
//	POST   /v1/admin/presets            body Preset                        → PresetList (201)
//	PUT    /v1/admin/presets/{name}     body Preset                        → PresetList
//	DELETE /v1/admin/presets/{name}?delete_variants=true                   → PresetList
//	POST   /v1/admin/presets/validate   body Preset                        → Validation
//	POST   /v1/admin/preview            body PreviewRequest                → image/png bytes of the preset applied to a sample original
//	POST   /v1/admin/backfill           body BackfillRequest               → Backfill (202)
//	GET    /v1/admin/backfill                                              → Backfill (the latest; 404 if none)
//	DELETE /v1/admin/backfill                                              → Backfill (cancelled)
//	POST   /v1/admin/reconcile                                             → ReconcileResult
//	GET    /v1/admin/events             (text/event-stream)                → "id: N\nevent: job\ndata: <Event JSON>\n\n";
//	                                       resumes after the Last-Event-ID header (or ?last_event_id=N)
package adminapi

import "time"

// Job states as users see them.
const (
	StateQueued    = "queued"    // waiting to run (River: available, scheduled, pending)
	StateRunning   = "running"   // a worker has it
	StateRetrying  = "retrying"  // failed transiently, will run again (River: retryable)
	StateCompleted = "completed" // every variant written
	StateFailed    = "failed"    // failed for good (River: discarded, or cancelled by the worker: the image can never be processed)
	StateCancelled = "cancelled" // cancelled by an operator, or waiting when its original was deleted
)

// Backfill states.
const (
	BackfillRunning   = "running"   // scanning, or waiting for its jobs
	BackfillDone      = "done"      // every job finished
	BackfillCancelled = "cancelled" // cancelled by an operator
)

// Job is one resize job: the variants of one original at one preset version.
type Job struct {
	ID            int64       `json:"id"`
	State         string      `json:"state"`
	Source        string      `json:"source"` // gateway, webhook, reconcile, backfill, retry
	Bucket        string      `json:"bucket"`
	Key           string      `json:"key"`
	ETag          string      `json:"etag"`
	PresetVersion int64       `json:"preset_version"`
	Presets       []string    `json:"presets"`
	Attempt       int         `json:"attempt"`
	MaxAttempts   int         `json:"max_attempts"`
	CreatedAt     time.Time   `json:"created_at"`
	StartedAt     *time.Time  `json:"started_at,omitempty"`
	FinishedAt    *time.Time  `json:"finished_at,omitempty"`
	DurationMS    int64       `json:"duration_ms,omitempty"`
	Error         string      `json:"error,omitempty"` // the last error, public text
	Errors        []JobError  `json:"errors,omitempty"`
	Variants      []VariantOK `json:"variants,omitempty"`
}

// JobError is one failed attempt.
type JobError struct {
	At      time.Time `json:"at"`
	Attempt int       `json:"attempt"`
	Error   string    `json:"error"`
}

// VariantOK is one variant a job wrote.
type VariantOK struct {
	Preset string `json:"preset"`
	Key    string `json:"key"`              // key in NAME-resized, e.g. "150x/photos/a.jpg"
	Format string `json:"format,omitempty"` // "avif" or "webp" for a sibling (at "150x.avif/photos/a.jpg"); empty for the primary
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int64  `json:"bytes"`
	MS     int64  `json:"ms"`
}

// JobList is a page of jobs, newest first.
type JobList struct {
	Jobs []Job  `json:"jobs"`
	Next string `json:"next,omitempty"` // cursor for the next page
}

// Stats summarises the queue.
type Stats struct {
	Counts       map[string]int64     `json:"counts"` // by state
	QueueDepth   int64                `json:"queue_depth"`
	Throughput   []float64            `json:"throughput"`   // completed jobs per second, one value per second, oldest first, last 60 s
	JobsPerSec   float64              `json:"jobs_per_sec"` // over the last minute
	PresetTiming map[string]Durations `json:"preset_timing"`
	JobTiming    Durations            `json:"job_timing"`
	BytesIn      int64                `json:"bytes_in"`
	BytesOut     int64                `json:"bytes_out"`
}

// Durations are percentiles in milliseconds.
type Durations struct {
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	N   int64   `json:"n"`
}

// Preset is a size preset (see resizer.Preset for the meaning of each field).
type Preset struct {
	Name       string   `json:"name"`
	Geometry   string   `json:"geometry"`
	Format     string   `json:"format,omitempty"`
	Quality    int      `json:"quality,omitempty"`
	Crop       bool     `json:"crop,omitempty"`
	Gravity    string   `json:"gravity,omitempty"`
	Background string   `json:"background,omitempty"`
	Formats    []string `json:"formats,omitempty"`  // sibling formats: "avif", "webp"
	Animated   *bool    `json:"animated,omitempty"` // false: animated originals give their first frame
}

// PresetList is the current preset set and its version (bumped on every change).
type PresetList struct {
	Version int64    `json:"version"`
	Presets []Preset `json:"presets"`
}

// Validation answers /v1/admin/presets/validate.
type Validation struct {
	Valid bool   `json:"valid"`
	Error string `json:"error,omitempty"`
}

// PreviewRequest asks for a preset applied to a sample original (Key, or the
// newest original when empty).
type PreviewRequest struct {
	Preset Preset `json:"preset"`
	Key    string `json:"key,omitempty"`
}

// BackfillRequest starts a backfill: render Presets (all current presets when
// empty) for every original that lacks them at the current preset version.
// DeleteRemoved also deletes variants of presets no longer configured.
type BackfillRequest struct {
	Presets       []string `json:"presets,omitempty"`
	DeleteRemoved bool     `json:"delete_removed,omitempty"`
}

// Backfill reports a backfill's progress.
type Backfill struct {
	ID         int64      `json:"id"`
	State      string     `json:"state"` // BackfillRunning, BackfillDone or BackfillCancelled
	Presets    []string   `json:"presets"`
	Total      int64      `json:"total"`    // originals found so far (final once Scanned)
	Enqueued   int64      `json:"enqueued"` // jobs created
	Done       int64      `json:"done"`     // jobs finished (completed or failed)
	Failed     int64      `json:"failed"`
	Scanned    bool       `json:"scanned"` // the listing of originals is complete
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Error      string     `json:"error,omitempty"`
}

// ReconcileResult reports a reconcile scan.
type ReconcileResult struct {
	Scanned  int64 `json:"scanned"`
	Enqueued int64 `json:"enqueued"`
}

// Event is one entry of the live job event stream.
type Event struct {
	ID   int64     `json:"id"`
	Type string    `json:"type"` // job.queued, job.running, job.completed, job.failed, job.retrying, job.cancelled, backfill.progress
	At   time.Time `json:"at"`
	Job  *Job      `json:"job,omitempty"`
	// Backfill is set on backfill.progress events.
	Backfill *Backfill `json:"backfill,omitempty"`
}

// ErrorBody is the JSON error shape of every /v1 endpoint.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// WebhookDeliveries answers GET /v1/admin/webhooks: the deliveries that
// failed at least once and are not delivered (retrying or given up).
type WebhookDeliveries struct {
	URLs       int               `json:"urls"` // configured --webhook-url count
	Deliveries []WebhookDelivery `json:"deliveries"`
}

// WebhookDelivery is one webhook to one URL.
type WebhookDelivery struct {
	ID          string     `json:"id"` // webhook-id, the same on every attempt
	URL         string     `json:"url"`
	Type        string     `json:"type"` // image.processed, image.failed
	Key         string     `json:"key"`
	State       string     `json:"state"` // retryable, available, running, discarded, cancelled
	Attempts    int        `json:"attempts"`
	MaxAttempts int        `json:"max_attempts"`
	LastError   string     `json:"last_error"`
	LastAt      time.Time  `json:"last_at"`
	NextAt      *time.Time `json:"next_at,omitempty"`
}
