// Package actions holds every admin API call the dashboard makes, each as a
// tea.Cmd, and the messages they answer with. Screens call actions instead
// of each other, so no component imports another.
package actions

import (
	"context"
	"errors"
	"fmt"
	"image"

	tea "charm.land/bubbletea/v2"

	"github.com/imgate/imgate/admin/client"
	"github.com/imgate/imgate/admin/common"
	"github.com/imgate/imgate/gateway/adminapi"
)

// Messages the commands answer with.
type (
	// JobsLoadedMsg carries a page of jobs; More is set for an older page
	// (not the first).
	JobsLoadedMsg struct {
		List adminapi.JobList
		Err  error
		More bool
	}
	// JobLoadedMsg carries one fetched job.
	JobLoadedMsg struct {
		ID  int64
		Job adminapi.Job
		Err error
	}
	// JobUpdatedMsg carries a job the API returned after retry or cancel,
	// so every component showing it can update.
	JobUpdatedMsg struct {
		Job    adminapi.Job
		Notice string // shown in the status line when not empty
	}
	// StatsMsg carries the job statistics.
	StatsMsg struct {
		Stats    adminapi.Stats
		Webhooks adminapi.WebhookDeliveries // failing deliveries (empty when the server has none or no such API)
		Err      error
	}
	// PresetsLoadedMsg carries the preset list after a load or a change.
	PresetsLoadedMsg struct {
		List   adminapi.PresetList
		Err    error
		Notice string
		Saved  bool // a save or delete succeeded: close the form
	}
	// ValidatedMsg is the server's verdict on a preset; Seq is the caller's.
	ValidatedMsg struct {
		Seq        int
		Validation adminapi.Validation
		Err        error
	}
	// PreviewMsg carries a rendered preview; Seq is the caller's.
	PreviewMsg struct {
		Seq   int
		Label string
		Img   image.Image
		Err   error
	}
	// BackfillLoadedMsg carries the latest backfill (Backfill nil: none yet).
	BackfillLoadedMsg struct {
		Backfill *adminapi.Backfill
		Err      error
	}
	// BackfillStartedMsg says a backfill was started (the root switches to
	// the backfill view).
	BackfillStartedMsg struct{ Backfill adminapi.Backfill }
)

// LoadJobs fetches one page of jobs; more marks a page older than the first.
func LoadJobs(c *common.Common, f client.JobFilter, more bool) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := c.Call()
		defer cancel()
		l, err := c.Client.Jobs(ctx, f)
		return JobsLoadedMsg{List: l, Err: err, More: more}
	}
}

// LoadJob fetches job id with its variants and errors.
func LoadJob(c *common.Common, id int64) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := c.Call()
		defer cancel()
		j, err := c.Client.Job(ctx, id)
		return JobLoadedMsg{ID: id, Job: j, Err: err}
	}
}

// RetryJob asks the API to retry job id.
func RetryJob(c *common.Common, id int64) tea.Cmd {
	return jobAction(c, id, "retry", c.Client.Retry)
}

// CancelJob asks the API to cancel job id.
func CancelJob(c *common.Common, id int64) tea.Cmd {
	return jobAction(c, id, "cancel", c.Client.Cancel)
}

func jobAction(c *common.Common, id int64, verb string, call func(context.Context, int64) (adminapi.Job, error)) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := c.Call()
		defer cancel()
		j, err := call(ctx, id)
		if err != nil {
			return common.NoticeMsg{Text: fmt.Sprintf("%s job %d: %v", verb, id, err), Error: true}
		}
		return JobUpdatedMsg{Job: j, Notice: fmt.Sprintf("%s job %d: now %s", verb, id, j.State)}
	}
}

// LoadStats fetches the job statistics.
func LoadStats(c *common.Common) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := c.Call()
		defer cancel()
		s, err := c.Client.Stats(ctx)
		if err != nil {
			return StatsMsg{Err: err}
		}
		wh, _ := c.Client.Webhooks(ctx) // best effort: an older server has no such API
		return StatsMsg{Stats: s, Webhooks: wh}
	}
}

// LoadPresets fetches the preset list.
func LoadPresets(c *common.Common) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := c.Call()
		defer cancel()
		l, err := c.Client.Presets(ctx)
		return PresetsLoadedMsg{List: l, Err: err}
	}
}

// SavePreset creates p, or replaces the preset named editing when that is
// not empty.
func SavePreset(c *common.Common, editing string, p adminapi.Preset) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := c.Call()
		defer cancel()
		var l adminapi.PresetList
		var err error
		if editing == "" {
			l, err = c.Client.CreatePreset(ctx, p)
		} else {
			l, err = c.Client.UpdatePreset(ctx, editing, p)
		}
		if err != nil {
			return PresetsLoadedMsg{Err: err}
		}
		return PresetsLoadedMsg{List: l, Saved: true, Notice: fmt.Sprintf("preset %s saved (presets v%d) — press b to backfill existing originals", p.Name, l.Version)}
	}
}

// DeletePreset deletes the preset name, and its variants when withVariants.
func DeletePreset(c *common.Common, name string, withVariants bool) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := c.Call()
		defer cancel()
		l, err := c.Client.DeletePreset(ctx, name, withVariants)
		if err != nil {
			return common.NoticeMsg{Text: fmt.Sprintf("delete %s: %v", name, err), Error: true}
		}
		return PresetsLoadedMsg{List: l, Saved: true, Notice: fmt.Sprintf("preset %s deleted (presets v%d)", name, l.Version)}
	}
}

// ValidatePreset asks the server whether p is valid.
func ValidatePreset(c *common.Common, seq int, p adminapi.Preset) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := c.Call()
		defer cancel()
		v, err := c.Client.ValidatePreset(ctx, p)
		return ValidatedMsg{Seq: seq, Validation: v, Err: err}
	}
}

// Preview renders p applied to a sample original.
func Preview(c *common.Common, seq int, label string, p adminapi.Preset) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := c.Call()
		defer cancel()
		img, err := c.Client.Preview(ctx, adminapi.PreviewRequest{Preset: p})
		return PreviewMsg{Seq: seq, Label: label, Img: img, Err: err}
	}
}

// LoadBackfill fetches the latest backfill.
func LoadBackfill(c *common.Common) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := c.Call()
		defer cancel()
		b, err := c.Client.Backfill(ctx)
		if errors.Is(err, client.ErrNotFound) {
			return BackfillLoadedMsg{}
		}
		if err != nil {
			return BackfillLoadedMsg{Err: err}
		}
		return BackfillLoadedMsg{Backfill: &b}
	}
}

// StartBackfill starts a backfill of presets (all when empty).
func StartBackfill(c *common.Common, presets []string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := c.Call()
		defer cancel()
		b, err := c.Client.StartBackfill(ctx, adminapi.BackfillRequest{Presets: presets})
		if err != nil {
			return common.NoticeMsg{Text: "backfill: " + err.Error(), Error: true}
		}
		return BackfillStartedMsg{Backfill: b}
	}
}

// CancelBackfill cancels the running backfill.
func CancelBackfill(c *common.Common) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := c.Call()
		defer cancel()
		b, err := c.Client.CancelBackfill(ctx)
		if err != nil {
			return common.NoticeMsg{Text: "cancel backfill: " + err.Error(), Error: true}
		}
		return BackfillLoadedMsg{Backfill: &b}
	}
}

// Messages of the live event stream.
type (
	// StreamOpenedMsg hands the root the stream's channels; Cancel closes it.
	StreamOpenedMsg struct {
		Events <-chan adminapi.Event
		Status <-chan client.StreamStatus
		Cancel context.CancelFunc
	}
	// EventMsg is one job or backfill event.
	EventMsg struct{ Event adminapi.Event }
	// StreamStatusMsg is a change of the stream's connection.
	StreamStatusMsg struct{ Status client.StreamStatus }
	// StreamClosedMsg says both channels are closed (c.Ctx ended).
	StreamClosedMsg struct{}
)

// OpenStream opens the event stream after event lastID; it lives until
// c.Ctx ends or StreamOpenedMsg.Cancel is called.
func OpenStream(c *common.Common, lastID int64) tea.Cmd {
	return func() tea.Msg {
		parent := c.Ctx
		if parent == nil {
			parent = context.Background()
		}
		ctx, cancel := context.WithCancel(parent)
		ev, st := c.Client.Events(ctx, lastID)
		return StreamOpenedMsg{Events: ev, Status: st, Cancel: cancel}
	}
}

// WaitStream waits for the next event or status change.
func WaitStream(events <-chan adminapi.Event, status <-chan client.StreamStatus) tea.Cmd {
	if events == nil && status == nil {
		return nil
	}
	return func() tea.Msg {
		select {
		case ev, ok := <-events:
			if !ok {
				return StreamClosedMsg{}
			}
			return EventMsg{Event: ev}
		case st, ok := <-status:
			if !ok {
				return StreamClosedMsg{}
			}
			return StreamStatusMsg{Status: st}
		}
	}
}
