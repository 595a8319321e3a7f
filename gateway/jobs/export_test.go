package jobs

import (
	"context"

	"github.com/imgate/imgate/gateway/adminapi"
)

// Test access to internals, for the external tests of this directory.

// SetTestHookResize runs f before the resizer in every job (set before Start).
func SetTestHookResize(s *Service, f func(key string)) { s.testHookResize = f }

// SetEventRetention changes how many events the log keeps.
func SetEventRetention(s *Service, n int) { s.events.keep = n }

// AppendEvent appends ev to the event log.
func AppendEvent(ctx context.Context, s *Service, ev adminapi.Event) { s.events.append(ctx, ev) }

// PruneEvents prunes the event log now.
func PruneEvents(ctx context.Context, s *Service) { s.events.prune(ctx) }

// ExecSQL runs a statement on the job store ('?' placeholders).
func ExecSQL(ctx context.Context, s *Service, q string, args ...any) error {
	_, err := s.db.Exec(ctx, q, args...)
	return err
}

// Node is the identity the service runs under.
func Node(s *Service) string { return s.node }
