// Package jobs is the dashboard's live job list: newest first, updated from
// the event stream, filterable, with retry and cancel.
package jobs

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/imgate/imgate/admin/common"
	"github.com/imgate/imgate/gateway/adminapi"
)

// MaxJobs bounds the jobs kept in memory (the oldest are dropped).
const MaxJobs = 2000

// KeyMap are the list's keys.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom  key.Binding
	Filter, ClearFilter, Open, Retry, Cancel key.Binding
	Refresh                                  key.Binding
}

// DefaultKeyMap returns the list's default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:          key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:        key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:      key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown:    key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Top:         key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "newest")),
		Bottom:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "oldest")),
		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Open:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Retry:       key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
		Cancel:      key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "cancel")),
		Refresh:     key.NewBinding(key.WithKeys("R", "ctrl+r"), key.WithHelp("R", "reload")),
	}
}

// ShortHelp implements help.KeyMap.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Filter, k.Open, k.Retry, k.Cancel}
}

// FullHelp implements help.KeyMap.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Filter, k.ClearFilter, k.Open, k.Retry, k.Cancel, k.Refresh},
	}
}

// OpenMsg asks the root to open the detail view of a job.
type OpenMsg struct{ ID int64 }

// ReloadMsg asks the root to reload the list from the API.
type ReloadMsg struct{}

// MoreMsg asks the root for the next (older) page: the cursor hit the end.
type MoreMsg struct{}

// Model is the job list.
type Model struct {
	c      *common.Common
	Keys   KeyMap
	jobs   []adminapi.Job // newest (highest id) first
	byID   map[int64]int
	view   []int // indexes into jobs that pass the filter
	cursor int   // index into view
	offset int   // first visible row
	width  int
	height int

	filter    textinput.Model
	filtering bool
}

// New returns an empty list.
func New(c *common.Common) Model {
	ti := common.NewInput("/", "key, state or preset", 200)
	return Model{c: c, Keys: DefaultKeyMap(), byID: map[int64]int{}, filter: ti}
}

// SetSize sets the area the list draws in.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.filter.SetWidth(max(10, w-24))
	m.clamp()
}

// Capturing reports whether the list takes all keys (the filter is open).
func (m Model) Capturing() bool { return m.filtering }

// Len returns how many jobs are known; Visible how many pass the filter.
func (m Model) Len() int     { return len(m.jobs) }
func (m Model) Visible() int { return len(m.view) }

// Filter returns the current filter text.
func (m Model) Filter() string { return m.filter.Value() }

// Selected returns the job under the cursor.
func (m Model) Selected() (adminapi.Job, bool) {
	if m.cursor < 0 || m.cursor >= len(m.view) {
		return adminapi.Job{}, false
	}
	return m.jobs[m.view[m.cursor]], true
}

// Get returns a known job by id.
func (m Model) Get(id int64) (adminapi.Job, bool) {
	i, ok := m.byID[id]
	if !ok {
		return adminapi.Job{}, false
	}
	return m.jobs[i], true
}

// Upsert adds or updates jobs (from the event stream or the API), keeping
// the cursor on the job it was on.
func (m *Model) Upsert(js ...adminapi.Job) {
	sel, hadSel := m.Selected()
	for _, j := range js {
		if i, ok := m.byID[j.ID]; ok {
			old := m.jobs[i]
			if len(j.Errors) == 0 {
				j.Errors = old.Errors
			}
			if len(j.Variants) == 0 {
				j.Variants = old.Variants
			}
			m.jobs[i] = j
			continue
		}
		m.jobs = append(m.jobs, j)
		m.byID[j.ID] = len(m.jobs) - 1
	}
	sort.SliceStable(m.jobs, func(a, b int) bool { return m.jobs[a].ID > m.jobs[b].ID })
	if len(m.jobs) > MaxJobs {
		m.jobs = m.jobs[:MaxJobs]
	}
	m.reindex()
	m.refilter()
	if hadSel && m.cursor > 0 {
		// keep the selected job under the cursor when new ones arrive on top
		for vi, ji := range m.view {
			if m.jobs[ji].ID == sel.ID {
				m.cursor = vi
				break
			}
		}
	}
	m.clamp()
}

func (m *Model) reindex() {
	clear(m.byID)
	for i, j := range m.jobs {
		m.byID[j.ID] = i
	}
}

func matches(j adminapi.Job, terms []string) bool {
	hay := strings.ToLower(fmt.Sprintf("%d %s %s %s %s %s", j.ID, j.State, j.Key, strings.Join(j.Presets, " "), j.Source, j.Error))
	for _, t := range terms {
		if !strings.Contains(hay, t) {
			return false
		}
	}
	return true
}

func (m *Model) refilter() {
	terms := strings.Fields(strings.ToLower(m.filter.Value()))
	m.view = m.view[:0]
	for i, j := range m.jobs {
		if matches(j, terms) {
			m.view = append(m.view, i)
		}
	}
}

func (m *Model) rows() int {
	r := m.height - 1 // column header
	if m.filtering || m.filter.Value() != "" {
		r-- // filter line
	}
	return max(r, 1)
}

func (m *Model) clamp() {
	if m.cursor >= len(m.view) {
		m.cursor = len(m.view) - 1
	}
	if m.cursor < 0 {
		m.cursor = 0
	}
	rows := m.rows()
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+rows {
		m.offset = m.cursor - rows + 1
	}
	m.offset = max(0, min(m.offset, len(m.view)-rows))
}

// Update handles keys (other messages are ignored).
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	kp, ok := msg.(tea.KeyPressMsg)
	if !ok {
		if m.filtering {
			var cmd tea.Cmd
			m.filter, cmd = m.filter.Update(msg)
			return m, cmd
		}
		return m, nil
	}
	if m.filtering {
		switch kp.String() {
		case "enter":
			m.filtering = false
			m.filter.Blur()
			return m, nil
		case "esc":
			m.filtering = false
			m.filter.Blur()
			m.filter.SetValue("")
			m.refilter()
			m.clamp()
			return m, nil
		}
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		m.refilter()
		m.cursor = 0
		m.clamp()
		return m, cmd
	}
	switch {
	case key.Matches(kp, m.Keys.Up):
		m.cursor--
	case key.Matches(kp, m.Keys.Down):
		m.cursor++
		if m.cursor >= len(m.view) && m.filter.Value() == "" {
			m.clamp()
			return m, func() tea.Msg { return MoreMsg{} }
		}
	case key.Matches(kp, m.Keys.PageUp):
		m.cursor -= m.rows()
	case key.Matches(kp, m.Keys.PageDown):
		m.cursor += m.rows()
	case key.Matches(kp, m.Keys.Top):
		m.cursor = 0
	case key.Matches(kp, m.Keys.Bottom):
		m.cursor = len(m.view) - 1
		m.clamp()
		return m, func() tea.Msg { return MoreMsg{} }
	case key.Matches(kp, m.Keys.Filter):
		m.filtering = true
		cmd := m.filter.Focus()
		m.clamp()
		return m, cmd
	case key.Matches(kp, m.Keys.ClearFilter):
		if m.filter.Value() != "" {
			m.filter.SetValue("")
			m.refilter()
		}
	case key.Matches(kp, m.Keys.Open):
		if j, ok := m.Selected(); ok {
			return m, func() tea.Msg { return OpenMsg{ID: j.ID} }
		}
	case key.Matches(kp, m.Keys.Retry):
		if j, ok := m.Selected(); ok {
			return m, RetryCmd(m.c, j.ID)
		}
	case key.Matches(kp, m.Keys.Cancel):
		if j, ok := m.Selected(); ok {
			return m, CancelCmd(m.c, j.ID)
		}
	case key.Matches(kp, m.Keys.Refresh):
		return m, func() tea.Msg { return ReloadMsg{} }
	}
	m.clamp()
	return m, nil
}

// RetryCmd asks the API to retry job id.
func RetryCmd(c *common.Common, id int64) tea.Cmd {
	return jobAction(c, id, "retry", c.Client.Retry)
}

// CancelCmd asks the API to cancel job id.
func CancelCmd(c *common.Common, id int64) tea.Cmd {
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
		return common.JobUpdatedMsg{Job: j, Notice: fmt.Sprintf("%s job %d: now %s", verb, id, j.State)}
	}
}

// columns returns the widths of ID, STATE, KEY, PRESETS, TIME, ERROR for
// a line of w cells (5 separating spaces); narrow screens drop PRESETS and
// ERROR first.
func columns(w int) [6]int {
	c := [6]int{7, 10, 0, 16, 7, 0}
	fixed := c[0] + c[1] + c[3] + c[4] + 5
	if w-fixed < 30 {
		c[3] = 0 // no room for presets
		fixed = c[0] + c[1] + c[4] + 4
	}
	rest := max(0, w-fixed)
	if rest < 24 {
		c[2] = rest
		return c
	}
	c[2] = rest * 6 / 10
	c[5] = rest - c[2] - 1
	return c
}

func row(cols [6]int, cells [6]string) string {
	out := make([]string, 0, 6)
	for i, s := range cells {
		if cols[i] > 0 {
			out = append(out, common.Fit(s, cols[i]))
		}
	}
	return strings.Join(out, " ")
}

// View renders exactly the model's height in lines.
func (m Model) View() string {
	s := m.c.Styles
	w := max(m.width, 20)
	cols := columns(w)
	lines := make([]string, 0, m.height)
	if m.filtering || m.filter.Value() != "" {
		info := fmt.Sprintf("  %d of %d", len(m.view), len(m.jobs))
		lines = append(lines, common.Fit(m.filter.View()+s.Muted.Render(info), w))
	}
	lines = append(lines, s.Header.Render(common.Cut(row(cols, [6]string{"ID", "STATE", "KEY", "PRESETS", "TIME", "ERROR"}), w)))
	rows := m.rows()
	if len(m.view) == 0 {
		msg := "no jobs yet — upload an image to NAME-original and it shows up here"
		if m.filter.Value() != "" {
			msg = "no job matches the filter (esc clears it)"
		}
		lines = append(lines, s.Muted.Render(common.Fit(msg, w)))
	}
	for i := m.offset; i < len(m.view) && i < m.offset+rows; i++ {
		j := m.jobs[m.view[i]]
		cells := [6]string{
			fmt.Sprint(j.ID),
			j.State,
			j.Key,
			strings.Join(j.Presets, ","),
			common.FormatMS(j.DurationMS),
			j.Error,
		}
		line := row(cols, cells)
		if i == m.cursor {
			line = s.Selected.Render(line)
		} else {
			// colour only the state cell
			pre := common.Fit(cells[0], cols[0]) + " "
			st := s.StateStyle(j.State).Render(common.Fit(j.State, cols[1]))
			line = pre + st + " " + row([6]int{0, 0, cols[2], cols[3], cols[4], 0}, cells)
			if cols[5] > 0 {
				line += " " + s.Error.Render(common.Fit(j.Error, cols[5]))
			}
		}
		lines = append(lines, common.Cut(line, w))
	}
	for len(lines) < m.height {
		lines = append(lines, "")
	}
	return strings.Join(lines[:max(m.height, 1)], "\n")
}
