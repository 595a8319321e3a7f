// Package client is the admin dashboard's view of imgate's admin API
// (/v1/admin/…): a small Client interface and its HTTP implementation (an
// in-memory fake for tests is in clienttest). The wire types live in
// gateway/adminapi.
package client

import (
	"context"
	"errors"
	"fmt"
	"image"
	"net/http"
	"time"

	"github.com/imgate/imgate/gateway/adminapi"
)

// JobFilter narrows a job listing; the zero value lists the newest jobs.
type JobFilter struct {
	State  string    // one of adminapi.State*; "" = any
	Prefix string    // key prefix
	Since  time.Time // zero = no lower bound
	Limit  int       // 0 = server default
	Cursor string    // from JobList.Next
}

// StreamStatus reports the state of the live event stream: Connected is true
// once a stream is open; otherwise Err says why it is not and RetryIn when the
// next attempt starts.
type StreamStatus struct {
	Connected bool
	Err       error
	Attempt   int           // consecutive failed attempts (0 when connected)
	RetryIn   time.Duration // delay before the next attempt
	LastID    int64         // last event id received so far
}

// Client is everything the dashboard needs from the admin API. Every call
// takes a context and is safe for concurrent use.
type Client interface {
	Jobs(ctx context.Context, f JobFilter) (adminapi.JobList, error)
	Job(ctx context.Context, id int64) (adminapi.Job, error)
	Retry(ctx context.Context, id int64) (adminapi.Job, error)
	Cancel(ctx context.Context, id int64) (adminapi.Job, error)
	Stats(ctx context.Context) (adminapi.Stats, error)
	// Webhooks lists the webhook deliveries that are failing.
	Webhooks(ctx context.Context) (adminapi.WebhookDeliveries, error)

	Presets(ctx context.Context) (adminapi.PresetList, error)
	CreatePreset(ctx context.Context, p adminapi.Preset) (adminapi.PresetList, error)
	UpdatePreset(ctx context.Context, name string, p adminapi.Preset) (adminapi.PresetList, error)
	DeletePreset(ctx context.Context, name string, deleteVariants bool) (adminapi.PresetList, error)
	ValidatePreset(ctx context.Context, p adminapi.Preset) (adminapi.Validation, error)
	// Preview renders p applied to a sample original and decodes the result.
	Preview(ctx context.Context, req adminapi.PreviewRequest) (image.Image, error)

	StartBackfill(ctx context.Context, req adminapi.BackfillRequest) (adminapi.Backfill, error)
	// Backfill returns the latest backfill, or an error matching ErrNotFound
	// when none ever ran.
	Backfill(ctx context.Context) (adminapi.Backfill, error)
	CancelBackfill(ctx context.Context) (adminapi.Backfill, error)

	// Events streams job events after lastEventID until ctx ends,
	// reconnecting by itself (resuming from the last id seen) with backoff.
	// Both channels are closed when ctx ends. Status changes are sent on
	// the second channel; a slow reader only delays the stream.
	Events(ctx context.Context, lastEventID int64) (<-chan adminapi.Event, <-chan StreamStatus)
}

// ErrNotFound matches an APIError with status 404.
var ErrNotFound = errors.New("not found")

// ErrUnauthorized matches an APIError with status 401 or 403.
var ErrUnauthorized = errors.New("unauthorized")

// APIError is an error answer of the admin API.
type APIError struct {
	Status  int    // HTTP status
	Code    string // machine-readable code from the error body, if any
	Message string // public message from the error body, or the status text
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Code != "" {
		return fmt.Sprintf("%s (%s, HTTP %d)", msg, e.Code, e.Status)
	}
	return fmt.Sprintf("%s (HTTP %d)", msg, e.Status)
}

// Is lets errors.Is match ErrNotFound and ErrUnauthorized.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	}
	return false
}
