package admin

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/imgate/imgate/admin/actions"
	"github.com/imgate/imgate/admin/client"
	"github.com/imgate/imgate/admin/client/clienttest"
	"github.com/imgate/imgate/gateway/adminapi"
)

// harness drives the root model synchronously: it runs every command the
// model returns and feeds the messages back, except the delayed ones (kept
// in delayed, delivered with fire) and the event stream (the test sends
// stream messages itself).
type harness struct {
	t       *testing.T
	m       *Model
	fake    *clienttest.Fake
	delayed []tea.Msg
	quit    bool
	depth   int
}

var t0 = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)

func ptime(t time.Time) *time.Time { return &t }

func sampleJobs() []adminapi.Job {
	presets := []string{"150x", "50x50", "x150"}
	return []adminapi.Job{
		{ID: 41, State: adminapi.StateCompleted, Source: "gateway", Bucket: "imgate-original", Key: "photos/alps.jpg", ETag: "9b2cf535f27731c974343645a3985328", PresetVersion: 1, Presets: presets, Attempt: 1, MaxAttempts: 10, CreatedAt: t0, StartedAt: ptime(t0.Add(20 * time.Millisecond)), FinishedAt: ptime(t0.Add(640 * time.Millisecond)), DurationMS: 620,
			Variants: []adminapi.VariantOK{{Preset: "150x", Key: "150x/photos/alps.jpg", Width: 150, Height: 100, Bytes: 9120, MS: 210}, {Preset: "50x50", Key: "50x50/photos/alps.jpg", Width: 50, Height: 33, Bytes: 2210, MS: 190}, {Preset: "x150", Key: "x150/photos/alps.jpg", Width: 225, Height: 150, Bytes: 15800, MS: 220}}},
		{ID: 42, State: adminapi.StateFailed, Source: "gateway", Bucket: "imgate-original", Key: "broken/truncated.jpg", ETag: "0f343b0931126a20f133d67c2b018a3b", PresetVersion: 1, Presets: presets, Attempt: 3, MaxAttempts: 3, CreatedAt: t0.Add(time.Second), DurationMS: 35, Error: "decode: unexpected EOF",
			Errors: []adminapi.JobError{{At: t0.Add(time.Second), Attempt: 1, Error: "decode: unexpected EOF"}, {At: t0.Add(3 * time.Second), Attempt: 2, Error: "decode: unexpected EOF"}, {At: t0.Add(7 * time.Second), Attempt: 3, Error: "decode: unexpected EOF"}}},
		{ID: 43, State: adminapi.StateRunning, Source: "webhook", Bucket: "imgate-original", Key: "users/17/avatar.png", PresetVersion: 1, Presets: presets, Attempt: 1, MaxAttempts: 10, CreatedAt: t0.Add(2 * time.Second)},
		{ID: 44, State: adminapi.StateQueued, Source: "reconcile", Bucket: "imgate-original", Key: "users/18/avatar.png", PresetVersion: 1, Presets: presets, MaxAttempts: 10, CreatedAt: t0.Add(3 * time.Second)},
	}
}

func samplePresets() []adminapi.Preset {
	return []adminapi.Preset{{Name: "150x", Geometry: "150x"}, {Name: "50x50", Geometry: "50x50"}, {Name: "x150", Geometry: "x150"}}
}

func sampleStats() adminapi.Stats {
	tp := make([]float64, 60)
	for i := range tp {
		tp[i] = float64((i*7)%11) / 2
	}
	return adminapi.Stats{
		Counts:     map[string]int64{"queued": 1, "running": 1, "completed": 118, "failed": 1},
		QueueDepth: 1, Throughput: tp, JobsPerSec: 2.4,
		JobTiming: adminapi.Durations{P50: 310, P95: 820, N: 120},
	}
}

func newHarness(t *testing.T, w, h int) *harness {
	t.Helper()
	fake := clienttest.NewFake(sampleJobs(), samplePresets())
	fake.SetStats(sampleStats())
	hs := &harness{t: t, fake: fake}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	hs.m = New(ctx, fake, Options{
		URL:   "http://127.0.0.1:8080",
		After: func(_ time.Duration, msg tea.Msg) tea.Cmd { hs.delayed = append(hs.delayed, msg); return nil },
	})
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.run(hs.m.Init())
	return hs
}

// send delivers msg to the model and runs what it returns.
func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	h.depth++
	defer func() { h.depth-- }()
	if h.depth > 50 {
		h.t.Fatalf("message loop: %T", msg)
	}
	_, cmd := h.m.Update(msg)
	h.run(cmd)
}

func (h *harness) run(cmd tea.Cmd) {
	h.t.Helper()
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			h.run(c)
		}
	case tea.QuitMsg:
		h.quit = true
	case actions.StreamOpenedMsg:
		// The test plays the stream itself; close the fake's.
		msg.Cancel()
	default:
		h.send(msg)
	}
}

// fire delivers the delayed messages of type T (ticks, debounces).
func fire[T any](h *harness) {
	h.t.Helper()
	pending := h.delayed
	h.delayed = nil
	for _, msg := range pending {
		if _, ok := msg.(T); ok {
			h.send(msg)
		} else {
			h.delayed = append(h.delayed, msg)
		}
	}
}

// keys types each key: "enter", "tab", "esc", "up", "down", "ctrl+c",
// "shift+tab", "backspace", or text typed rune by rune.
func (h *harness) keys(ks ...string) {
	h.t.Helper()
	for _, k := range ks {
		for _, msg := range keyMsgs(k) {
			h.send(msg)
		}
	}
}

func keyMsgs(k string) []tea.Msg {
	special := map[string]tea.KeyPressMsg{
		"enter":     {Code: tea.KeyEnter},
		"tab":       {Code: tea.KeyTab},
		"shift+tab": {Code: tea.KeyTab, Mod: tea.ModShift},
		"esc":       {Code: tea.KeyEscape},
		"up":        {Code: tea.KeyUp},
		"down":      {Code: tea.KeyDown},
		"backspace": {Code: tea.KeyBackspace},
		"ctrl+c":    {Code: 'c', Mod: tea.ModCtrl},
	}
	if m, ok := special[k]; ok {
		return []tea.Msg{m}
	}
	var out []tea.Msg
	for _, r := range k {
		out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return out
}

// screen returns the ANSI-stripped view with trailing spaces removed.
func (h *harness) screen() string {
	v := h.m.View()
	lines := strings.Split(ansi.Strip(v.Content), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

func (h *harness) mustSee(parts ...string) {
	h.t.Helper()
	s := h.screen()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			h.t.Fatalf("screen lacks %q:\n%s", p, s)
		}
	}
}

func (h *harness) mustNotSee(parts ...string) {
	h.t.Helper()
	s := h.screen()
	for _, p := range parts {
		if strings.Contains(s, p) {
			h.t.Fatalf("screen shows %q:\n%s", p, s)
		}
	}
}

func connected() client.StreamStatus { return client.StreamStatus{Connected: true} }
