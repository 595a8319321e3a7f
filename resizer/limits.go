package resizer

import (
	"context"
	"sync"
)

// Default limits (used for zero fields of Limits).
const (
	DefaultMaxPixels = 50_000_000
	DefaultMaxFrames = 100
	DefaultMaxBytes  = 100 << 20
	// DefaultMaxScans is libjpeg-turbo's suggested -maxscans: real
	// progressive files have about 10 scans.
	DefaultMaxScans = 500
	// DefaultMaxOutputPixels bounds one variant (before a fill's crop).
	DefaultMaxOutputPixels = 16_000_000
	// DefaultMaxAspect bounds the long side over the short side of a source
	// whose long side exceeds aspectFreeSide.
	DefaultMaxAspect = 50
	// DefaultMaxInFlightBytes bounds the estimated decoder memory of all
	// Resize calls of one Resizer at once.
	DefaultMaxInFlightBytes = 160 << 20
)

// Limits are checked from the header, before any pixel is decoded. Zero
// fields take the defaults: 50 megapixels, 100 frames, 100 MiB, 500 scans,
// 16-megapixel variants, 50:1.
type Limits struct {
	MaxPixels       int64   // width×height of the source
	MaxFrames       int     // animation frames (GIF)
	MaxBytes        int64   // size of the encoded source
	MaxScans        int     // JPEG scans (SOS markers)
	MaxOutputPixels int64   // width×height of one variant (before cropping)
	MaxAspect       float64 // long side / short side of a source
}

func (l Limits) withDefaults() Limits {
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxFrames <= 0 {
		l.MaxFrames = DefaultMaxFrames
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxScans <= 0 {
		l.MaxScans = DefaultMaxScans
	}
	if l.MaxOutputPixels <= 0 {
		l.MaxOutputPixels = DefaultMaxOutputPixels
	}
	if l.MaxAspect <= 0 {
		l.MaxAspect = DefaultMaxAspect
	}
	return l
}

// Options configure a Resizer; the zero value is the default.
type Options struct {
	Limits Limits
	// MaxInFlightBytes bounds the estimated memory that decoding may hold
	// across all concurrent Resize calls (default 160 MiB). A call whose
	// source needs more than the whole budget is refused (ErrOverBudget).
	MaxInFlightBytes int64
	// DisableScaledJPEG turns off the DCT-domain scaled JPEG decoder, so
	// every JPEG is decoded at full size by image/jpeg (for comparisons).
	DisableScaledJPEG bool
	// DisableStreamingPNG turns off the row-streaming PNG decoder, so every
	// PNG is decoded whole by image/png (for comparisons).
	DisableStreamingPNG bool
}

// weighted is a FIFO weighted semaphore.
type weighted struct {
	mu      sync.Mutex
	size    int64
	cur     int64
	waiters []*waiter
}

type waiter struct {
	n     int64
	ready chan struct{}
}

func newWeighted(n int64) *weighted { return &weighted{size: n} }

// acquire takes n (clamped to the size) or fails with ctx's error.
func (s *weighted) acquire(ctx context.Context, n int64) (int64, error) {
	n = min(n, s.size)
	s.mu.Lock()
	if len(s.waiters) == 0 && s.cur+n <= s.size {
		s.cur += n
		s.mu.Unlock()
		return n, nil
	}
	w := &waiter{n: n, ready: make(chan struct{})}
	s.waiters = append(s.waiters, w)
	s.mu.Unlock()
	select {
	case <-w.ready:
		return n, nil
	case <-ctx.Done():
		s.mu.Lock()
		select {
		case <-w.ready: // granted meanwhile: give it back
			s.cur -= n
			s.wake()
		default:
			for i, x := range s.waiters {
				if x == w {
					s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
					break
				}
			}
			s.wake()
		}
		s.mu.Unlock()
		return 0, ctx.Err()
	}
}

func (s *weighted) release(n int64) {
	s.mu.Lock()
	s.cur -= n
	s.wake()
	s.mu.Unlock()
}

// wake grants waiters in order while they fit. Caller holds mu.
func (s *weighted) wake() {
	for len(s.waiters) > 0 {
		w := s.waiters[0]
		if s.cur+w.n > s.size {
			return
		}
		s.cur += w.n
		s.waiters = s.waiters[1:]
		close(w.ready)
	}
}
