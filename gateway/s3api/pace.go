package s3api

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Pacing of upload bodies and per-client upload caps: a client that holds
// a connection open without sending (slowloris) is cut, and no single
// client (access key or remote address) can hold every upload slot.

// paceGrace is how long a body may start slowly before its average rate
// is held to the minimum (TCP slow start, a phone waking its radio).
const paceGrace = 10 * time.Second

// errBodyTooSlow is the refusal of a body that stalled or trickled.
var errBodyTooSlow = errRequestTimeout.withMessage("Your socket connection to the server was not read from or written to within the timeout period: the request body stalled or arrived slower than the server's minimum rate.")

// pacedBody reads a request body under read deadlines on the connection:
// each Read must make progress within idle, and after paceGrace the
// average rate since the first Read must stay at or above minRate bytes/s.
// The deadline is set on the connection (http.ResponseController), so a
// Read blocked on a silent client returns instead of waiting forever.
type pacedBody struct {
	body    io.ReadCloser
	rc      *http.ResponseController
	idle    time.Duration
	minRate int64 // bytes/s; 0 disables the rate check
	grace   time.Duration
	start   time.Time
	n       int64
	reads   int   // Read calls so far
	err     error // sticky: EOF or the first failure
}

// pace wraps r.Body in a pacedBody (once per request).
func (h *handler) pace(w http.ResponseWriter, r *http.Request) {
	if _, done := r.Body.(*pacedBody); done || r.Body == nil || r.Body == http.NoBody {
		return
	}
	r.Body = &pacedBody{
		body: r.Body, rc: http.NewResponseController(w),
		idle: h.cfg.BodyIdleTimeout, minRate: max(h.cfg.BodyMinRate, 0), grace: h.paceGrace,
	}
}

// deadline is when the next Read must have returned.
func (p *pacedBody) deadline(now time.Time) time.Time {
	d := now.Add(p.idle)
	if p.minRate > 0 {
		// The average falls under minRate at start + n/minRate; not before the grace ends.
		allowed := max(p.grace, time.Duration(float64(p.n)/float64(p.minRate)*float64(time.Second)))
		if r := p.start.Add(allowed); r.Before(d) {
			d = r
		}
	}
	return d
}

func (p *pacedBody) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	p.reads++
	now := time.Now()
	if p.start.IsZero() {
		p.start = now
	}
	d := p.deadline(now)
	if !d.After(now) {
		p.err = errBodyTooSlow
		return 0, p.err
	}
	// After the body's EOF the server resets the deadline itself (its
	// background read); a sticky err makes sure none is set after that.
	_ = p.rc.SetReadDeadline(d)
	n, err := p.body.Read(b)
	p.n += int64(n)
	switch {
	case err == nil:
	case isTimeout(err):
		p.err = errBodyTooSlow
		return n, p.err
	default:
		p.err = err
		if !errors.Is(err, io.EOF) {
			_ = p.rc.SetReadDeadline(time.Time{})
		}
	}
	return n, err
}

func (p *pacedBody) Close() error { return p.body.Close() }

// maxRefusedDrain bounds how much of a refused request's body is read and
// discarded before the error is answered.
const maxRefusedDrain = 64 << 20

// drainRefused reads what is left of a refused request's body (at most
// maxRefusedDrain, paced), so a client still sending reads the S3 error
// instead of a reset connection ("Connection was closed before we received
// a valid response"). Nothing is read when the client waits for
// 100-continue and none was sent: the answer goes first, the body never
// comes. Larger remainders are not drained: the connection is closed after
// the answer.
func drainRefused(r *http.Request) {
	p, ok := r.Body.(*pacedBody)
	if !ok || p.err != nil {
		return
	}
	if p.reads == 0 && strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		return
	}
	if r.ContentLength > 0 && r.ContentLength-p.n > maxRefusedDrain {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(p, maxRefusedDrain))
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// clientCaps counts the upload slots held per access key and per remote
// address.
type clientCaps struct {
	limit  int
	mu     sync.Mutex
	counts map[string]int
}

// take reserves one slot for every name, or none if any is at the limit.
func (c *clientCaps) take(names ...string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range names {
		if c.counts[n] >= c.limit {
			return false
		}
	}
	for _, n := range names {
		c.counts[n]++
	}
	return true
}

func (c *clientCaps) release(names ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range names {
		if c.counts[n]--; c.counts[n] <= 0 {
			delete(c.counts, n)
		}
	}
}

// clientNames are the names an upload is counted under: its signer's
// access key and its remote address (the TCP peer; proxies are not trusted).
func clientNames(accessKey string, r *http.Request) []string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return []string{"key:" + accessKey, "addr:" + host}
}
