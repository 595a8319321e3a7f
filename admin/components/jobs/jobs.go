// Package jobs is the dashboard's live job list: newest first, updated from
// the event stream, paged in from the API as the cursor reaches the end,
// filterable, with retry and cancel.
package jobs

import (
	"fmt"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/imgate/imgate/admin/actions"
	"github.com/imgate/imgate/admin/client"
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

// DefaultLimit is the page size when New is given none.
const DefaultLimit = 200

// OpenMsg asks the root to open the detail view of a job.
type OpenMsg struct{ ID int64 }

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

	// paging
	limit       int    // jobs per page
	nextCursor  string // older jobs to page in ("" = none)
	loadingMore bool
}

var _ common.Component = (*Model)(nil)

// New returns an empty list that loads limit jobs per page (0: DefaultLimit).
func New(c *common.Common, limit int) *Model {
	if limit <= 0 {
		limit = DefaultLimit
	}
	ti := common.NewInput("/", "key, state or preset", 200)
	return &Model{c: c, Keys: DefaultKeyMap(), byID: map[int64]int{}, filter: ti, limit: limit}
}

// Init loads the first page.
func (m *Model) Init() tea.Cmd { return m.Load() }

// Load fetches the first (newest) page again.
func (m *Model) Load() tea.Cmd {
	return actions.LoadJobs(m.c, client.JobFilter{Limit: m.limit}, false)
}

// loadMore fetches the page of jobs older than those shown.
func (m *Model) loadMore() tea.Cmd {
	if m.nextCursor == "" || m.loadingMore {
		return nil
	}
	m.loadingMore = true
	return actions.LoadJobs(m.c, client.JobFilter{Limit: m.limit, Cursor: m.nextCursor}, true)
}

func (m *Model) loaded(msg actions.JobsLoadedMsg) tea.Cmd {
	if msg.More {
		m.loadingMore = false
	}
	if msg.Err != nil {
		return common.Notice("load jobs: "+msg.Err.Error(), true)
	}
	m.Upsert(msg.List.Jobs...)
	if msg.More || m.nextCursor == "" {
		m.nextCursor = msg.List.Next
	}
	return nil
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding { return m.Keys.ShortHelp() }

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return m.Keys.FullHelp() }

// SetSize sets the area the list draws in.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.filter.SetWidth(max(10, w-24))
	m.clamp()
}

// Capturing reports whether the list takes all keys (the filter is open).
func (m *Model) Capturing() bool { return m.filtering }

// Len returns how many jobs are known; Visible how many pass the filter.
func (m *Model) Len() int     { return len(m.jobs) }
func (m *Model) Visible() int { return len(m.view) }

// Filter returns the current filter text.
func (m *Model) Filter() string { return m.filter.Value() }

// Selected returns the job under the cursor.
func (m *Model) Selected() (adminapi.Job, bool) {
	if m.cursor < 0 || m.cursor >= len(m.view) {
		return adminapi.Job{}, false
	}
	return m.jobs[m.view[m.cursor]], true
}

// Get returns a known job by id.
func (m *Model) Get(id int64) (adminapi.Job, bool) {
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

// Update handles keys, loaded pages and jobs the API returned.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if m.filtering {
			return m, m.updateFilter(msg)
		}
		return m, m.updateKey(msg)
	case actions.JobsLoadedMsg:
		return m, m.loaded(msg)
	case actions.JobUpdatedMsg:
		m.Upsert(msg.Job)
		return m, nil
	case actions.JobLoadedMsg:
		if msg.Err == nil {
			m.Upsert(msg.Job)
		}
		return m, nil
	}
	if m.filtering {
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		return m, cmd
	}
	return m, nil
}

// updateFilter types into the open filter.
func (m *Model) updateFilter(kp tea.KeyPressMsg) tea.Cmd {
	switch kp.String() {
	case "enter":
		m.filtering = false
		m.filter.Blur()
		return nil
	case "esc":
		m.filtering = false
		m.filter.Blur()
		m.filter.SetValue("")
		m.refilter()
		m.clamp()
		return nil
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(kp)
	m.refilter()
	m.cursor = 0
	m.clamp()
	return cmd
}

// updateKey handles a key while the filter is closed.
func (m *Model) updateKey(kp tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(kp, m.Keys.Up):
		m.cursor--
	case key.Matches(kp, m.Keys.Down):
		m.cursor++
		if m.cursor >= len(m.view) && m.filter.Value() == "" {
			m.clamp()
			return m.loadMore()
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
		return m.loadMore()
	case key.Matches(kp, m.Keys.Filter):
		m.filtering = true
		cmd := m.filter.Focus()
		m.clamp()
		return cmd
	case key.Matches(kp, m.Keys.ClearFilter):
		if m.filter.Value() != "" {
			m.filter.SetValue("")
			m.refilter()
		}
	case key.Matches(kp, m.Keys.Open):
		if j, ok := m.Selected(); ok {
			return func() tea.Msg { return OpenMsg{ID: j.ID} }
		}
	case key.Matches(kp, m.Keys.Retry):
		if j, ok := m.Selected(); ok {
			return actions.RetryJob(m.c, j.ID)
		}
	case key.Matches(kp, m.Keys.Cancel):
		if j, ok := m.Selected(); ok {
			return actions.CancelJob(m.c, j.ID)
		}
	case key.Matches(kp, m.Keys.Refresh):
		return m.Load()
	}
	m.clamp()
	return nil
}
