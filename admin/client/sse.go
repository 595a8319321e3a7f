package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/imgate/imgate/gateway/adminapi"
)

// SSEMessage is one dispatched Server-Sent Events message.
type SSEMessage struct {
	ID    string // the "id:" field ("" when the message had none)
	HasID bool   // an "id:" line was present
	Event string // the "event:" field ("message" when absent)
	Data  string // "data:" lines joined with "\n"
	Retry time.Duration
}

// maxSSELine bounds one line of the stream (a job event is a few KiB).
const maxSSELine = 1 << 20

// ReadSSE parses a text/event-stream from r and calls fn for every message
// (a block ending in a blank line that has data). It follows the WHATWG
// rules: lines end in \n, \r\n or \r; a leading ":" is a comment; "field:
// value" drops one leading space of the value; an unknown field is ignored;
// a message without data is not dispatched. It returns fn's error, the
// reader's error, or nil at EOF (an unterminated last block is dropped).
func ReadSSE(r io.Reader, fn func(SSEMessage) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxSSELine)
	sc.Split(scanSSELines)
	var (
		data    strings.Builder
		hasData bool
		msg     SSEMessage
	)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if hasData {
				msg.Data = data.String()
				if msg.Event == "" {
					msg.Event = "message"
				}
				if err := fn(msg); err != nil {
					return err
				}
			}
			data.Reset()
			hasData = false
			msg = SSEMessage{}
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, found := strings.Cut(line, ":")
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		switch field {
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.WriteString(value)
			hasData = true
		case "event":
			msg.Event = value
		case "id":
			if !strings.ContainsRune(value, 0) {
				msg.ID = value
				msg.HasID = true
			}
		case "retry":
			if n, err := strconv.ParseUint(value, 10, 31); err == nil {
				msg.Retry = time.Duration(n) * time.Millisecond
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("event stream: %w", err)
	}
	return nil
}

// scanSSELines splits on \n, \r\n or a lone \r.
func scanSSELines(data []byte, atEOF bool) (int, []byte, error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\n' {
			return i + 1, data[:i], nil
		}
		// \r: need one more byte to know whether \n follows.
		if i+1 < len(data) {
			if data[i+1] == '\n' {
				return i + 2, data[:i], nil
			}
			return i + 1, data[:i], nil
		}
		if atEOF {
			return i + 1, data[:i], nil
		}
		return 0, nil, nil
	}
	if atEOF {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// Events implements Client: it opens GET /v1/admin/events, resumes after
// the last id seen with Last-Event-ID, and reconnects with exponential
// backoff (reset after every successful connection).
func (c *HTTP) Events(ctx context.Context, lastEventID int64) (<-chan adminapi.Event, <-chan StreamStatus) {
	events := make(chan adminapi.Event, 64)
	status := make(chan StreamStatus, 8)
	go func() {
		defer close(events)
		defer close(status)
		last := lastEventID
		attempt := 0
		backoff := c.cfg.MinBackoff
		for ctx.Err() == nil {
			connected := false
			err := c.streamOnce(ctx, last, func() {
				connected = true
				attempt = 0
				backoff = c.cfg.MinBackoff
				sendStatus(ctx, status, StreamStatus{Connected: true, LastID: last})
			}, func(ev adminapi.Event) bool {
				if ev.ID > 0 {
					last = ev.ID
				}
				select {
				case events <- ev:
					return true
				case <-ctx.Done():
					return false
				}
			}, func(d time.Duration) { backoff = min(max(d, c.cfg.MinBackoff), c.cfg.MaxBackoff) })
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				err = errors.New("event stream closed by the server")
			}
			attempt++
			wait := backoff
			if connected {
				wait = c.cfg.MinBackoff
			}
			sendStatus(ctx, status, StreamStatus{Err: err, Attempt: attempt, RetryIn: wait, LastID: last})
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			if !connected {
				backoff = min(backoff*2, c.cfg.MaxBackoff)
			}
		}
	}()
	return events, status
}

func sendStatus(ctx context.Context, ch chan<- StreamStatus, s StreamStatus) {
	select {
	case ch <- s:
	case <-ctx.Done():
	}
}

// streamOnce runs one connection of the event stream until it ends.
func (c *HTTP) streamOnce(ctx context.Context, last int64, onOpen func(), onEvent func(adminapi.Event) bool, onRetry func(time.Duration)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint("/v1/admin/events", nil), nil)
	if err != nil {
		return fmt.Errorf("event stream: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	if last > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(last, 10))
	}
	resp, err := c.stream.Do(req)
	if err != nil {
		return fmt.Errorf("event stream: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("event stream: %w", decodeError(resp))
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return fmt.Errorf("event stream: unexpected content type %q", ct)
	}
	onOpen()
	body := io.Reader(resp.Body)
	if c.cfg.StreamIdle > 0 {
		// A watchdog ends a connection that went silent (e.g. a dead peer
		// behind a proxy) so the loop reconnects.
		var seen atomic.Int64
		body = &activityReader{r: resp.Body, seen: &seen}
		done := make(chan struct{})
		defer close(done)
		go watchIdle(done, &seen, c.cfg.StreamIdle, cancel)
	}
	err = ReadSSE(body, func(m SSEMessage) error {
		if m.Retry > 0 {
			onRetry(m.Retry)
		}
		var ev adminapi.Event
		if err := json.Unmarshal([]byte(m.Data), &ev); err != nil {
			// Not a job event (e.g. a hello message): skip it.
			return nil
		}
		if m.HasID {
			if id, err := strconv.ParseInt(m.ID, 10, 64); err == nil && ev.ID == 0 {
				ev.ID = id
			}
		}
		if ev.Type == "" && m.Event != "message" {
			ev.Type = m.Event
		}
		if !onEvent(ev) {
			return ctx.Err()
		}
		return nil
	})
	if err == nil {
		return errors.New("event stream closed by the server")
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return errors.New("event stream idle too long")
	}
	return err
}

// watchIdle calls cancel once seen has not changed for idleMax, checking
// four times per idleMax, until done is closed.
func watchIdle(done <-chan struct{}, seen *atomic.Int64, idleMax time.Duration, cancel func()) {
	t := time.NewTicker(idleMax / 4)
	defer t.Stop()
	lastSeen, idle := int64(-1), time.Duration(0)
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if n := seen.Load(); n != lastSeen {
				lastSeen, idle = n, 0
				continue
			}
			idle += idleMax / 4
			if idle >= idleMax {
				cancel()
				return
			}
		}
	}
}

type activityReader struct {
	r    io.Reader
	seen *atomic.Int64
}

func (a *activityReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.seen.Add(int64(n))
	}
	return n, err
}
