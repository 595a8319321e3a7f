package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/riverqueue/river"
)

const (
	queue = "webhooks"
	kind  = "imgate.webhook"
	// maxAttempts: with the default backoff, retries go on for about 2 hours.
	maxAttempts = 20
)

// deliveryArgs is one webhook to one URL, a River job: the payload and id
// are fixed when the job is inserted, so every retry sends the same event
// with the same webhook-id.
type deliveryArgs struct {
	ID      string          `json:"id"`
	URL     string          `json:"url"`
	Type    string          `json:"type"`
	Bucket  string          `json:"bucket"`
	Key     string          `json:"key"`
	Payload json.RawMessage `json:"payload"`
}

func (deliveryArgs) Kind() string { return kind }

func (deliveryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queue, MaxAttempts: maxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type deliveryWorker struct {
	river.WorkerDefaults[deliveryArgs]
	s *Service
}

// Timeout bounds one delivery attempt.
func (w *deliveryWorker) Timeout(*river.Job[deliveryArgs]) time.Duration { return 20 * time.Second }

// NextRetry backs off per attempt (Config.Retry).
func (w *deliveryWorker) NextRetry(job *river.Job[deliveryArgs]) time.Time {
	return time.Now().Add(w.s.cfg.Retry(max(len(job.Errors)+1, 1)))
}

// backoff is 2^(n-1) s, at most 10 min, plus up to 25 % jitter.
func backoff(n int) time.Duration {
	d := min(time.Duration(1<<min(n-1, 20))*time.Second, 10*time.Minute)
	return d + time.Duration(rand.Int64N(int64(d/4)+1))
}

// Work sends the webhook once; a non-2xx answer or a network error is
// retried, 410 Gone stops the delivery (the receiver asked for no more).
func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[deliveryArgs]) error {
	a := job.Args
	now := time.Now()
	sig, err := w.s.signer.Sign(a.ID, now, a.Payload)
	if err != nil {
		return fmt.Errorf("sign webhook: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.URL, bytes.NewReader(a.Payload))
	if err != nil {
		return river.JobCancel(fmt.Errorf("webhook URL: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "imgate-webhooks")
	req.Header.Set("webhook-id", a.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := w.s.cfg.Client.Do(req)
	if err != nil {
		w.s.cfg.Logger.InfoContext(ctx, "webhook delivery failed", "id", a.ID, "url", a.URL, "attempt", job.Attempt, "err", err)
		// The URL and address are in the delivery already: keep what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Err != nil {
			err = oe.Err
		}
		return fmt.Errorf("%w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusGone:
		return river.JobCancel(errors.New("HTTP 410 Gone: the receiver refuses further deliveries"))
	}
	w.s.cfg.Logger.InfoContext(ctx, "webhook delivery failed", "id", a.ID, "url", a.URL, "attempt", job.Attempt, "status", resp.StatusCode)
	return fmt.Errorf("HTTP %d", resp.StatusCode)
}
