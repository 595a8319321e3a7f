// Package admin is imgate's terminal dashboard (Bubble Tea v2): a root model
// that composes small components — header, jobs list, job detail, preset
// editor, backfill — each a common.Component, and talks to the admin API
// only through an injected client.Client, by the commands of package
// actions. All I/O runs in tea.Cmds.
package admin

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"

	"github.com/imgate/imgate/admin/actions"
	"github.com/imgate/imgate/admin/client"
	"github.com/imgate/imgate/admin/common"
	"github.com/imgate/imgate/admin/components/backfill"
	"github.com/imgate/imgate/admin/components/detail"
	"github.com/imgate/imgate/admin/components/header"
	"github.com/imgate/imgate/admin/components/jobs"
	"github.com/imgate/imgate/admin/components/presets"
	"github.com/imgate/imgate/gateway/adminapi"
)

// Options configure the dashboard; the zero value of each field is a default.
type Options struct {
	URL string // shown in the header
	// After replaces tea.Tick for delayed messages (tests); nil = real time.
	After      func(d time.Duration, msg tea.Msg) tea.Cmd
	StatsEvery time.Duration // stats (and running backfill) refresh; default 1 s
	JobsLimit  int           // jobs per page (at start, on reconnect, paging); default 200
	NoticeFor  time.Duration // how long a notice stays; default 8 s
}

// View identifies a top-level view.
type View int

// The views, in tab order.
const (
	ViewJobs View = iota
	ViewPresets
	ViewBackfill
)

var viewNames = []string{"1 Jobs", "2 Presets", "3 Backfill"}

// Default terminal size until the first WindowSizeMsg.
const (
	defaultWidth  = 80
	defaultHeight = 24
	footerHeight  = 2
)

// Messages of the root model.
type (
	tickMsg         struct{}
	noticeExpireMsg struct{ seq int }
)

// Model is the root model.
type Model struct {
	c    *common.Common
	opts Options
	keys KeyMap

	width, height int
	active        View
	detailOpen    bool
	showHelp      bool

	header   header.Model
	jobs     *jobs.Model
	detail   *detail.Model
	presets  *presets.Model
	backfill *backfill.Model
	help     help.Model

	conn connection

	statsInflight bool
	statsErr      error

	notice    string
	noticeErr bool
	noticeSeq int
	quitting  bool
}

// New returns the dashboard model for the API behind c. ctx bounds every
// API call and the event stream.
func New(ctx context.Context, c client.Client, opts Options) *Model {
	if opts.StatsEvery <= 0 {
		opts.StatsEvery = time.Second
	}
	if opts.NoticeFor <= 0 {
		opts.NoticeFor = 8 * time.Second
	}
	cm := &common.Common{Ctx: ctx, Client: c, Styles: common.DefaultStyles(), After: opts.After}
	m := &Model{
		c:        cm,
		opts:     opts,
		keys:     DefaultKeyMap(),
		header:   header.New(cm, opts.URL, viewNames),
		jobs:     jobs.New(cm, opts.JobsLimit),
		detail:   detail.New(cm),
		presets:  presets.New(cm),
		backfill: backfill.New(cm),
		help:     help.New(),
		conn:     connection{state: header.Connecting},
	}
	m.setSize(defaultWidth, defaultHeight)
	return m
}

// components returns every screen, for what they all receive.
func (m *Model) components() []common.Component {
	return []common.Component{m.jobs, m.detail, m.presets, m.backfill}
}

// Init loads everything and opens the event stream.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.jobs.Init(), m.loadStats(), m.presets.Init(), m.backfill.Init(), m.openStream(), m.tick())
}

func (m *Model) loadStats() tea.Cmd {
	m.statsInflight = true
	return actions.LoadStats(m.c)
}

func (m *Model) tick() tea.Cmd {
	return m.c.Delay(m.opts.StatsEvery, tickMsg{})
}

func (m *Model) setSize(w, h int) {
	m.width, m.height = w, h
	bodyH := max(1, h-header.Height-footerHeight)
	m.header.SetSize(w, header.Height)
	for _, c := range m.components() {
		c.SetSize(w, bodyH)
	}
	m.help.SetWidth(w)
}

func (m *Model) setNotice(text string, isErr bool) tea.Cmd {
	m.notice, m.noticeErr = text, isErr
	m.noticeSeq++
	seq := m.noticeSeq
	return m.c.Delay(m.opts.NoticeFor, noticeExpireMsg{seq: seq})
}

// activeComponent returns the screen that has the keys now.
func (m *Model) activeComponent() common.Component {
	switch m.active {
	case ViewPresets:
		return m.presets
	case ViewBackfill:
		return m.backfill
	}
	if m.detailOpen {
		return m.detail
	}
	return m.jobs
}

// capturing reports whether the active component takes every key.
func (m *Model) capturing() bool {
	c, ok := m.activeComponent().(common.Capturer)
	return ok && c.Capturing()
}

func (m *Model) switchTo(v View) tea.Cmd {
	m.active = v
	m.showHelp = false
	switch v {
	case ViewPresets:
		return m.presets.PreviewSelected()
	case ViewBackfill:
		return m.backfill.Load()
	}
	return nil
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.setSize(msg.Width, msg.Height)
		return m, nil
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	case actions.StreamOpenedMsg, actions.EventMsg, actions.StreamStatusMsg, actions.StreamClosedMsg:
		return m, m.updateStream(msg)
	case actions.StatsMsg:
		m.statsInflight = false
		m.statsErr = msg.Err
		if msg.Err == nil {
			m.header.Stats = msg.Stats
			m.header.Webhooks = msg.Webhooks
		}
		return m, nil
	case tickMsg:
		cmds := []tea.Cmd{m.tick()}
		if !m.statsInflight {
			cmds = append(cmds, m.loadStats())
		}
		if m.active == ViewBackfill || m.backfill.Running() {
			cmds = append(cmds, m.backfill.Load())
		}
		return m, tea.Batch(cmds...)
	case noticeExpireMsg:
		if msg.seq == m.noticeSeq {
			m.notice = ""
		}
		return m, nil
	case common.NoticeMsg:
		return m, m.setNotice(msg.Text, msg.Error)
	}
	return m, m.route(msg)
}

// route handles what the components ask of the root, then hands the
// message to every component (each ignores what is not its own).
func (m *Model) route(msg tea.Msg) tea.Cmd {
	var cmds []tea.Cmd
	switch msg := msg.(type) {
	case jobs.OpenMsg:
		j, _ := m.jobs.Get(msg.ID)
		j.ID = msg.ID
		m.detailOpen = true
		return m.detail.Open(j)
	case detail.CloseMsg:
		m.detailOpen = false
		return nil
	case actions.JobUpdatedMsg:
		if msg.Notice != "" {
			cmds = append(cmds, m.setNotice(msg.Notice, false))
		}
	case actions.BackfillStartedMsg:
		m.active, m.showHelp = ViewBackfill, false
		cmds = append(cmds, m.setNotice(fmt.Sprintf("backfill #%d started for %s", msg.Backfill.ID, strings.Join(msg.Backfill.Presets, ", ")), false))
	}
	for _, c := range m.components() {
		_, cmd := c.Update(msg)
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

func (m *Model) applyEvent(ev adminapi.Event) tea.Cmd {
	var cmds []tea.Cmd
	if ev.Job != nil {
		m.jobs.Upsert(*ev.Job)
		if m.detailOpen {
			_, cmd := m.detail.Update(actions.JobUpdatedMsg{Job: *ev.Job})
			cmds = append(cmds, cmd)
		}
	}
	if ev.Backfill != nil {
		b := *ev.Backfill
		_, cmd := m.backfill.Update(actions.BackfillLoadedMsg{Backfill: &b})
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

func (m *Model) quit() tea.Cmd {
	m.quitting = true
	if m.conn.stop != nil {
		m.conn.stop()
	}
	return tea.Quit
}

// Active returns the view shown.
func (m *Model) Active() View { return m.active }

// DetailOpen reports whether the job detail is shown.
func (m *Model) DetailOpen() bool { return m.detailOpen }

// Connected reports whether the event stream is live.
func (m *Model) Connected() bool { return m.conn.state == header.Live }
