// Package detail shows one job: its fields, the variants it wrote and the
// history of its failed attempts.
package detail

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/imgate/imgate/admin/actions"
	"github.com/imgate/imgate/admin/common"
	"github.com/imgate/imgate/gateway/adminapi"
)

// KeyMap are the detail view's keys.
type KeyMap struct {
	Back, Up, Down, Retry, Cancel, Reload key.Binding
}

// DefaultKeyMap returns the default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Back:   key.NewBinding(key.WithKeys("esc", "backspace", "left", "h"), key.WithHelp("esc", "back to list")),
		Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll up")),
		Down:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll down")),
		Retry:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
		Cancel: key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "cancel")),
		Reload: key.NewBinding(key.WithKeys("R", "ctrl+r"), key.WithHelp("R", "reload")),
	}
}

// ShortHelp implements help.KeyMap.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Back, k.Retry, k.Cancel, k.Up, k.Down}
}

// FullHelp implements help.KeyMap.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Back, k.Up, k.Down}, {k.Retry, k.Cancel, k.Reload}}
}

// CloseMsg asks the root to go back to the list.
type CloseMsg struct{}

// Model is the detail view.
type Model struct {
	c      *common.Common
	Keys   KeyMap
	ID     int64
	job    adminapi.Job
	loaded bool
	err    error
	scroll int
	width  int
	height int
}

var _ common.Component = (*Model)(nil)

// New returns an empty detail view.
func New(c *common.Common) *Model { return &Model{c: c, Keys: DefaultKeyMap()} }

// Init does nothing: Open loads the job shown.
func (m *Model) Init() tea.Cmd { return nil }

// SetSize sets the drawing area.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, h }

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding { return m.Keys.ShortHelp() }

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return m.Keys.FullHelp() }

// Open shows job j (as known so far) and fetches the full record.
func (m *Model) Open(j adminapi.Job) tea.Cmd {
	m.ID, m.job, m.loaded, m.err, m.scroll = j.ID, j, false, nil, 0
	return m.Load()
}

// Load fetches the job from the API.
func (m *Model) Load() tea.Cmd { return actions.LoadJob(m.c, m.ID) }

// Job returns the job shown.
func (m *Model) Job() adminapi.Job { return m.job }

// Update handles keys and loaded/updated jobs.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case actions.JobLoadedMsg:
		if msg.ID != m.ID {
			return m, nil
		}
		if msg.Err != nil {
			m.err = msg.Err
			return m, nil
		}
		m.job, m.loaded, m.err = msg.Job, true, nil
	case actions.JobUpdatedMsg:
		if msg.Job.ID == m.ID {
			changed := msg.Job.State != m.job.State
			errs, vars := m.job.Errors, m.job.Variants
			m.job = msg.Job
			if len(m.job.Errors) == 0 {
				m.job.Errors = errs
			}
			if len(m.job.Variants) == 0 {
				m.job.Variants = vars
			}
			if changed {
				return m, m.Load()
			}
		}
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, m.Keys.Back):
			return m, func() tea.Msg { return CloseMsg{} }
		case key.Matches(msg, m.Keys.Up):
			m.scroll = max(0, m.scroll-1)
		case key.Matches(msg, m.Keys.Down):
			m.scroll = min(m.scroll+1, m.maxScroll())
		case key.Matches(msg, m.Keys.Retry):
			return m, actions.RetryJob(m.c, m.ID)
		case key.Matches(msg, m.Keys.Cancel):
			return m, actions.CancelJob(m.c, m.ID)
		case key.Matches(msg, m.Keys.Reload):
			return m, m.Load()
		}
	}
	return m, nil
}

func ts(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05.000Z")
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// maxScroll is how far the body can scroll below the title line.
func (m *Model) maxScroll() int {
	return max(0, len(m.lines())-1-(max(m.height, 1)-1))
}

// View implements tea.Model: exactly the size set.
func (m *Model) View() tea.View { return tea.NewView(m.render()) }

// render draws exactly the model's height in lines.
func (m *Model) render() string {
	lines := m.lines()
	// scroll, keeping the title line
	h := max(m.height, 1)
	sc := min(m.scroll, m.maxScroll())
	out := append([]string{lines[0]}, lines[1+sc:]...)
	for len(out) < h {
		out = append(out, "")
	}
	return strings.Join(out[:h], "\n")
}

// lines renders the whole detail, title first.
func (m *Model) lines() []string {
	s := m.c.Styles
	w := max(m.width, 20)
	j := m.job
	var lines []string
	add := func(label, value string) {
		lines = append(lines, common.Fit(s.Label.Render(fmt.Sprintf("%-10s", label))+" "+value, w))
	}
	title := fmt.Sprintf("job %d  ", j.ID) + s.StateStyle(j.State).Render(j.State)
	if !m.loaded && m.err == nil {
		title += s.Muted.Render("  loading…")
	}
	lines = append(lines, common.Fit(s.Title.Render(title), w))
	if m.err != nil {
		lines = append(lines, common.Fit(s.Error.Render("could not load: "+m.err.Error()), w))
	}
	add("object", j.Bucket+"/"+j.Key)
	add("etag", j.ETag)
	add("source", fmt.Sprintf("%s   presets v%d: %s", j.Source, j.PresetVersion, strings.Join(j.Presets, ", ")))
	add("attempt", fmt.Sprintf("%d of %d", j.Attempt, j.MaxAttempts))
	add("created", ts(&j.CreatedAt))
	add("started", ts(j.StartedAt))
	add("finished", fmt.Sprintf("%s   took %s", ts(j.FinishedAt), common.FormatMS(j.DurationMS)))
	if j.Error != "" {
		add("error", s.Error.Render(j.Error))
	}
	lines = append(lines, "")
	lines = append(lines, s.Header.Render(common.Cut(fmt.Sprintf("VARIANTS (%d)", len(j.Variants)), w)))
	if len(j.Variants) == 0 {
		lines = append(lines, s.Muted.Render("  none written yet"))
	}
	for _, v := range j.Variants {
		name := v.Preset
		if v.Format != "" { // a sibling: "150x.avif"
			name += "." + v.Format
		}
		lines = append(lines, common.Fit(fmt.Sprintf("  %-12s %5d×%-5d %10s %7s  %s", name, v.Width, v.Height, humanBytes(v.Bytes), common.FormatMS(v.MS), v.Key), w))
	}
	lines = append(lines, "")
	lines = append(lines, s.Header.Render(common.Cut(fmt.Sprintf("ERRORS (%d)", len(j.Errors)), w)))
	if len(j.Errors) == 0 {
		lines = append(lines, s.Muted.Render("  no failed attempts"))
	}
	for _, e := range j.Errors {
		lines = append(lines, common.Fit(fmt.Sprintf("  #%d %s  ", e.Attempt, e.At.UTC().Format("15:04:05"))+s.Error.Render(e.Error), w))
	}
	return lines
}
