package jobsapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// handleEvents streams job events as Server-Sent Events. A client resumes
// with Last-Event-ID (or ?last_event_id=N) and gets every event after it that
// the log still holds; without one it gets events from now on.
func (a *API) events(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lastStr := r.Header.Get("Last-Event-ID")
	if lastStr == "" {
		lastStr = r.URL.Query().Get("last_event_id")
	}
	var last int64
	if lastStr != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(lastStr), 10, 64)
		if err != nil || n < 0 {
			a.fail(w, r, &badRequest{msg: fmt.Sprintf("Last-Event-ID %q is not a non-negative integer", lastStr)})
			return
		}
		last = n
	} else {
		n, err := a.jobs.LastEventID(ctx)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		last = n
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		a.fail(w, r, errors.New("streaming not supported by the response writer"))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "retry: 2000\n\n")
	flusher.Flush()
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	idle := 0
	for {
		wake := a.jobs.EventsChanged()
		evs, err := a.jobs.EventsAfter(ctx, last, 500)
		if err != nil {
			return
		}
		for _, ev := range evs {
			data, err := json.Marshal(ev)
			if err != nil {
				continue
			}
			name := "job"
			if strings.HasPrefix(ev.Type, "backfill.") {
				name = "backfill"
			}
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.ID, name, data); err != nil {
				return
			}
			last = ev.ID
		}
		if len(evs) > 0 {
			flusher.Flush()
			idle = 0
			if len(evs) == 500 {
				continue
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-poll.C:
			// Other nodes append too; poll. Keep the connection alive.
			if idle++; idle%15 == 0 {
				if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
					return
				}
				flusher.Flush()
			}
		}
	}
}
