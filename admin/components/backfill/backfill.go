// Package backfill shows the latest backfill with a progress bar and
// starts or cancels one.
package backfill

import (
	"fmt"
	"math"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/imgate/imgate/admin/actions"
	"github.com/imgate/imgate/admin/common"
	"github.com/imgate/imgate/gateway/adminapi"
)

// KeyMap are the backfill view's keys.
type KeyMap struct {
	Start, Cancel, Reload key.Binding
}

// DefaultKeyMap returns the default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Start:  key.NewBinding(key.WithKeys("b", "s"), key.WithHelp("b", "start backfill (all presets)")),
		Cancel: key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "cancel backfill")),
		Reload: key.NewBinding(key.WithKeys("R", "ctrl+r"), key.WithHelp("R", "reload")),
	}
}

// ShortHelp implements help.KeyMap.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Start, k.Cancel} }

// FullHelp implements help.KeyMap.
func (k KeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{{k.Start, k.Cancel, k.Reload}} }

// Model is the backfill view.
type Model struct {
	c      *common.Common
	Keys   KeyMap
	bf     *adminapi.Backfill
	loaded bool
	err    error
	barW   int
	width  int
	height int
}

var _ common.Component = (*Model)(nil)

// New returns an empty view; Init fills it.
func New(c *common.Common) *Model {
	return &Model{c: c, Keys: DefaultKeyMap(), barW: 40}
}

// Init loads the latest backfill.
func (m *Model) Init() tea.Cmd { return m.Load() }

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding { return m.Keys.ShortHelp() }

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return m.Keys.FullHelp() }

// SetSize sets the drawing area.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.barW = max(10, min(w-2, 70))
}

// Backfill returns the backfill shown (nil if none).
func (m *Model) Backfill() *adminapi.Backfill { return m.bf }

// Running reports whether the shown backfill is still running.
func (m *Model) Running() bool { return m.bf != nil && m.bf.State == "running" }

// Load fetches the latest backfill.
func (m *Model) Load() tea.Cmd { return actions.LoadBackfill(m.c) }

// Percent is the share of the backfill done, 0..1 (1 only when finished).
func Percent(b *adminapi.Backfill) float64 {
	if b == nil {
		return 0
	}
	if b.State == "done" && b.Failed == 0 {
		return 1
	}
	if b.Total <= 0 {
		if b.Scanned && b.State != "running" {
			return 1
		}
		return 0
	}
	p := float64(b.Done) / float64(b.Total)
	if (!b.Scanned || b.State == "running") && p >= 1 {
		p = 0.99
	}
	return min(max(p, 0), 1)
}

// Update handles keys and loaded backfills.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case actions.BackfillLoadedMsg:
		m.loaded = true
		if msg.Err != nil {
			m.err = msg.Err
			return m, nil
		}
		m.err = nil
		if msg.Backfill != nil && m.bf != nil && msg.Backfill.ID < m.bf.ID {
			return m, nil // an older answer overtaken by a newer event
		}
		m.bf = msg.Backfill
	case actions.BackfillStartedMsg:
		b := msg.Backfill
		m.bf, m.loaded, m.err = &b, true, nil
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, m.Keys.Start):
			if m.Running() {
				return m, common.Notice("a backfill is already running (x cancels it)", true)
			}
			return m, actions.StartBackfill(m.c, nil)
		case key.Matches(msg, m.Keys.Cancel):
			if !m.Running() {
				return m, common.Notice("no backfill is running", true)
			}
			return m, actions.CancelBackfill(m.c)
		case key.Matches(msg, m.Keys.Reload):
			return m, m.Load()
		}
	}
	return m, nil
}

// View implements tea.Model: exactly the size set.
func (m *Model) View() tea.View { return tea.NewView(m.render()) }

// render draws exactly the model's height in lines.
func (m *Model) render() string {
	s := m.c.Styles
	w := max(m.width, 20)
	lines := []string{s.Header.Render(common.Cut("BACKFILL", w))}
	switch {
	case !m.loaded:
		lines = append(lines, s.Muted.Render("loading…"))
	case m.err != nil && m.bf == nil:
		lines = append(lines, s.Error.Render(common.Cut("could not load: "+m.err.Error(), w)))
	case m.bf == nil:
		lines = append(lines, "", common.Cut("No backfill has run yet.", w), "",
			s.Muted.Render(common.Cut("A backfill renders every preset for every original that lacks it —", w)),
			s.Muted.Render(common.Cut("run one after adding or changing a preset. Press b to start.", w)))
	default:
		b := m.bf
		st := s.Title
		switch b.State {
		case "done":
			st = s.OK
		case "failed", "cancelled":
			st = s.Error
		}
		lines = append(lines, common.Fit(fmt.Sprintf("#%d  ", b.ID)+st.Render(b.State)+"  presets: "+strings.Join(b.Presets, ", "), w), "")
		lines = append(lines, " "+Bar(Percent(b), m.barW, s), "")
		total := fmt.Sprint(b.Total)
		if !b.Scanned {
			total += "+ (still listing originals)"
		}
		lines = append(lines,
			common.Fit(fmt.Sprintf(" originals %s   enqueued %d   done %d   failed %d", total, b.Enqueued, b.Done, b.Failed), w),
			common.Fit(" started   "+b.StartedAt.UTC().Format("2006-01-02 15:04:05Z"), w))
		if b.FinishedAt != nil {
			lines = append(lines, common.Fit(fmt.Sprintf(" finished  %s  (%s)", b.FinishedAt.UTC().Format("2006-01-02 15:04:05Z"), b.FinishedAt.Sub(b.StartedAt).Round(100_000_000)), w))
		}
		if b.Error != "" {
			lines = append(lines, s.Error.Render(common.Cut(" error: "+b.Error, w)))
		}
		if m.err != nil {
			lines = append(lines, s.Error.Render(common.Cut(" refresh failed: "+m.err.Error(), w)))
		}
		lines = append(lines, "")
		if b.State == "running" {
			lines = append(lines, s.Muted.Render(common.Cut(" x cancels · progress updates live", w)))
		} else {
			lines = append(lines, s.Muted.Render(common.Cut(" b starts a new backfill of all presets", w)))
		}
	}
	h := max(m.height, 1)
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines[:h], "\n")
}

// Bar draws a progress bar of width cells (including the percentage).
func Bar(p float64, width int, s common.Styles) string {
	label := fmt.Sprintf(" %3d%%", int(math.Floor(p*100+1e-9)))
	n := max(1, width-len(label))
	full := int(p*float64(n) + 0.5)
	if p < 1 && full == n {
		full = n - 1
	}
	return s.OK.Render(strings.Repeat("█", full)) + s.Muted.Render(strings.Repeat("░", n-full)) + label
}
