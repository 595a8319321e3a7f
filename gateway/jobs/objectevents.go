package jobs

import (
	"context"
	"errors"

	"github.com/imgate/imgate/gateway/storage"
)

// ObjectEvent is one record of a storage event notification (MinIO's
// webhook): an object was created or removed.
type ObjectEvent struct {
	Created bool // ObjectCreated:*; else ObjectRemoved:*
	Bucket  string
	Key     string
	Size    int64
	ETag    string
}

// EventsResult counts what ObjectEvents did with a batch of events.
type EventsResult struct {
	Accepted int `json:"accepted"` // acted on: a job enqueued or variants deleted
	Ignored  int `json:"ignored"`  // not for NAME-original, or contradicted by the backend
}

// RetryError means events could not be recorded now; the sender should
// retry. Msg is public.
type RetryError struct{ Msg string }

func (e *RetryError) Error() string { return e.Msg }

// ObjectEvents acts on storage events. Only events of NAME-original are acted
// on: variants written to NAME-resized never trigger processing, so a shared
// backend cannot loop. An event is a hint, never trusted on its own: the
// backend is asked first (one cheap Stat per record), so a created-event for
// an object that does not exist queues nothing, and a removed-event for an
// original that still exists (late, reordered or replayed) deletes nothing.
// An error (a *RetryError) means not every event was recorded: the sender
// retries the whole request, and duplicates collapse.
func (s *Service) ObjectEvents(ctx context.Context, events []ObjectEvent) (EventsResult, error) {
	var res EventsResult
	for _, ev := range events {
		if ev.Bucket != s.original {
			res.Ignored++
			continue
		}
		info, err := s.cfg.Storage.Stat(ctx, ev.Bucket, ev.Key)
		exists := err == nil
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			s.log.WarnContext(ctx, "s3 event: stat", "key", ev.Key, "err", err)
			return res, &RetryError{Msg: "storage unavailable, retry"}
		}
		switch {
		case ev.Created && exists:
			// The backend's ETag wins: it names the bytes stored now.
			if err := s.Enqueue(ctx, info, "webhook"); err != nil {
				s.log.WarnContext(ctx, "s3 event: enqueue", "key", ev.Key, "err", err)
				return res, &RetryError{Msg: "could not record the job, retry"}
			}
		case !ev.Created && !exists:
			if err := s.Deleted(ctx, ev.Bucket, ev.Key); err != nil {
				s.log.WarnContext(ctx, "s3 event: delete variants", "key", ev.Key, "err", err)
				return res, &RetryError{Msg: "could not delete variants, retry"}
			}
		default:
			s.log.InfoContext(ctx, "s3 event contradicted by the backend, ignored", "key", ev.Key, "created", ev.Created)
			res.Ignored++
			continue
		}
		res.Accepted++
	}
	return res, nil
}
