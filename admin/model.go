// Package admin is imgate's terminal dashboard (Bubble Tea v2): a root model
// that composes small components — header, jobs list, job detail, preset
// editor, backfill — and talks to the admin API only through an injected
// client.Client. All I/O runs in tea.Cmds.
package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

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
	JobsLimit  int           // jobs loaded at start and on reconnect; default 200
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
	jobsLoadedMsg struct {
		list adminapi.JobList
		err  error
		more bool // an older page (not the first)
	}
	statsMsg struct {
		stats adminapi.Stats
		err   error
	}
	tickMsg         struct{}
	streamOpenedMsg struct {
		events <-chan adminapi.Event
		status <-chan client.StreamStatus
		cancel context.CancelFunc
	}
	eventMsg        struct{ ev adminapi.Event }
	statusMsg       struct{ st client.StreamStatus }
	streamClosedMsg struct{}
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
	jobs     jobs.Model
	detail   detail.Model
	presets  presets.Model
	backfill backfill.Model
	help     help.Model

	// connection
	conn        header.Conn
	connErr     error
	retryIn     time.Duration
	attempt     int
	wasOffline  bool
	lastEventID int64
	events      <-chan adminapi.Event
	status      <-chan client.StreamStatus
	stopStream  context.CancelFunc

	statsInflight bool
	statsErr      error
	nextCursor    string // older jobs to page in ("" = none)
	loadingMore   bool

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
	if opts.JobsLimit <= 0 {
		opts.JobsLimit = 200
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
		jobs:     jobs.New(cm),
		detail:   detail.New(cm),
		presets:  presets.New(cm),
		backfill: backfill.New(cm),
		help:     help.New(),
		conn:     header.Connecting,
	}
	m.setSize(defaultWidth, defaultHeight)
	return m
}

// Init loads everything and opens the event stream.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.loadJobs(), m.loadStats(), m.presets.Load(), m.backfill.Load(), m.openStream(), m.tick())
}

func (m *Model) loadJobs() tea.Cmd {
	c, limit := m.c, m.opts.JobsLimit
	return func() tea.Msg {
		ctx, cancel := c.Call()
		defer cancel()
		l, err := c.Client.Jobs(ctx, client.JobFilter{Limit: limit})
		return jobsLoadedMsg{list: l, err: err}
	}
}

// loadMore fetches the page of jobs older than those shown.
func (m *Model) loadMore() tea.Cmd {
	if m.nextCursor == "" || m.loadingMore {
		return nil
	}
	m.loadingMore = true
	c, limit, cursor := m.c, m.opts.JobsLimit, m.nextCursor
	return func() tea.Msg {
		ctx, cancel := c.Call()
		defer cancel()
		l, err := c.Client.Jobs(ctx, client.JobFilter{Limit: limit, Cursor: cursor})
		return jobsLoadedMsg{list: l, err: err, more: true}
	}
}

func (m *Model) loadStats() tea.Cmd {
	m.statsInflight = true
	c := m.c
	return func() tea.Msg {
		ctx, cancel := c.Call()
		defer cancel()
		s, err := c.Client.Stats(ctx)
		return statsMsg{stats: s, err: err}
	}
}

func (m *Model) tick() tea.Cmd {
	return m.c.Delay(m.opts.StatsEvery, tickMsg{})
}

func (m *Model) openStream() tea.Cmd {
	c, last := m.c, m.lastEventID
	return func() tea.Msg {
		parent := c.Ctx
		if parent == nil {
			parent = context.Background()
		}
		ctx, cancel := context.WithCancel(parent)
		ev, st := c.Client.Events(ctx, last)
		return streamOpenedMsg{events: ev, status: st, cancel: cancel}
	}
}

// waitStream waits for the next event or status change.
func waitStream(events <-chan adminapi.Event, status <-chan client.StreamStatus) tea.Cmd {
	if events == nil && status == nil {
		return nil
	}
	return func() tea.Msg {
		select {
		case ev, ok := <-events:
			if !ok {
				return streamClosedMsg{}
			}
			return eventMsg{ev: ev}
		case st, ok := <-status:
			if !ok {
				return streamClosedMsg{}
			}
			return statusMsg{st: st}
		}
	}
}

func (m *Model) setSize(w, h int) {
	m.width, m.height = w, h
	bodyH := max(1, h-header.Height-footerHeight)
	m.header.SetSize(w, header.Height)
	m.jobs.SetSize(w, bodyH)
	m.detail.SetSize(w, bodyH)
	m.presets.SetSize(w, bodyH)
	m.backfill.SetSize(w, bodyH)
	m.help.SetWidth(w)
}

func (m *Model) setNotice(text string, isErr bool) tea.Cmd {
	m.notice, m.noticeErr = text, isErr
	m.noticeSeq++
	seq := m.noticeSeq
	return m.c.Delay(m.opts.NoticeFor, noticeExpireMsg{seq: seq})
}

// capturing reports whether the active component takes every key.
func (m *Model) capturing() bool {
	switch m.active {
	case ViewJobs:
		return !m.detailOpen && m.jobs.Capturing()
	case ViewPresets:
		return m.presets.Capturing()
	}
	return false
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

	case streamOpenedMsg:
		m.events, m.status, m.stopStream = msg.events, msg.status, msg.cancel
		return m, waitStream(m.events, m.status)
	case eventMsg:
		cmd := m.applyEvent(msg.ev)
		return m, tea.Batch(cmd, waitStream(m.events, m.status))
	case statusMsg:
		cmd := m.applyStatus(msg.st)
		return m, tea.Batch(cmd, waitStream(m.events, m.status))
	case streamClosedMsg:
		if m.quitting {
			return m, nil
		}
		m.conn = header.Offline
		return m, nil

	case jobsLoadedMsg:
		if msg.more {
			m.loadingMore = false
		}
		if msg.err != nil {
			return m, m.setNotice("load jobs: "+msg.err.Error(), true)
		}
		m.jobs.Upsert(msg.list.Jobs...)
		if msg.more || m.nextCursor == "" {
			m.nextCursor = msg.list.Next
		}
		return m, nil
	case jobs.MoreMsg:
		return m, m.loadMore()
	case statsMsg:
		m.statsInflight = false
		m.statsErr = msg.err
		if msg.err == nil {
			m.header.Stats = msg.stats
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
	case common.JobUpdatedMsg:
		m.jobs.Upsert(msg.Job)
		var cmd tea.Cmd
		m.detail, cmd = m.detail.Update(msg)
		if msg.Notice != "" {
			return m, tea.Batch(cmd, m.setNotice(msg.Notice, false))
		}
		return m, cmd
	case common.BackfillStartedMsg:
		m.backfill, _ = m.backfill.Update(msg)
		m.active, m.showHelp = ViewBackfill, false
		return m, m.setNotice(fmt.Sprintf("backfill #%d started for %s", msg.Backfill.ID, strings.Join(msg.Backfill.Presets, ", ")), false)
	case jobs.OpenMsg:
		j, _ := m.jobs.Get(msg.ID)
		j.ID = msg.ID
		m.detailOpen = true
		return m, m.detail.Open(j)
	case jobs.ReloadMsg:
		return m, m.loadJobs()
	case detail.CloseMsg:
		m.detailOpen = false
		return m, nil
	case detail.LoadedMsg:
		if msg.Err == nil {
			m.jobs.Upsert(msg.Job)
		}
		var cmd tea.Cmd
		m.detail, cmd = m.detail.Update(msg)
		return m, cmd
	case backfill.LoadedMsg:
		var cmd tea.Cmd
		m.backfill, cmd = m.backfill.Update(msg)
		return m, cmd
	}
	// Everything else (the editor's own messages, cursor blinks) goes to the
	// components that own text inputs.
	var c1, c2 tea.Cmd
	m.presets, c1 = m.presets.Update(msg)
	m.jobs, c2 = m.jobs.Update(msg)
	return m, tea.Batch(c1, c2)
}

func (m *Model) applyEvent(ev adminapi.Event) tea.Cmd {
	if ev.ID > m.lastEventID {
		m.lastEventID = ev.ID
	}
	var cmds []tea.Cmd
	if ev.Job != nil {
		m.jobs.Upsert(*ev.Job)
		if m.detailOpen {
			var cmd tea.Cmd
			m.detail, cmd = m.detail.Update(common.JobUpdatedMsg{Job: *ev.Job})
			cmds = append(cmds, cmd)
		}
	}
	if ev.Backfill != nil {
		b := *ev.Backfill
		var cmd tea.Cmd
		m.backfill, cmd = m.backfill.Update(backfill.LoadedMsg{Backfill: &b})
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

func (m *Model) applyStatus(st client.StreamStatus) tea.Cmd {
	if st.Connected {
		m.conn, m.connErr, m.attempt, m.retryIn = header.Live, nil, 0, 0
		if m.wasOffline {
			m.wasOffline = false
			// Catch up on what the event log may no longer hold.
			return tea.Batch(m.loadJobs(), m.loadStats(), m.presets.Load(), m.backfill.Load(),
				m.setNotice("reconnected — resumed after event #"+fmt.Sprint(m.lastEventID), false))
		}
		return nil
	}
	m.conn, m.connErr, m.attempt, m.retryIn = header.Offline, st.Err, st.Attempt, st.RetryIn
	m.wasOffline = true
	return nil
}

func (m *Model) handleKey(k tea.KeyPressMsg) tea.Cmd {
	if k.String() == "ctrl+c" {
		return m.quit()
	}
	if !m.capturing() {
		switch {
		case key.Matches(k, m.keys.Quit):
			return m.quit()
		case key.Matches(k, m.keys.Help):
			m.showHelp = !m.showHelp
			return nil
		case m.showHelp && k.String() == "esc":
			m.showHelp = false
			return nil
		case key.Matches(k, m.keys.NextView):
			return m.switchTo((m.active + 1) % 3)
		case key.Matches(k, m.keys.PrevView):
			return m.switchTo((m.active + 2) % 3)
		case key.Matches(k, m.keys.Jobs):
			return m.switchTo(ViewJobs)
		case key.Matches(k, m.keys.Presets):
			return m.switchTo(ViewPresets)
		case key.Matches(k, m.keys.Backfill):
			return m.switchTo(ViewBackfill)
		}
		if m.showHelp {
			return nil
		}
	}
	var cmd tea.Cmd
	switch m.active {
	case ViewJobs:
		if m.detailOpen {
			m.detail, cmd = m.detail.Update(k)
		} else {
			m.jobs, cmd = m.jobs.Update(k)
		}
	case ViewPresets:
		m.presets, cmd = m.presets.Update(k)
	case ViewBackfill:
		m.backfill, cmd = m.backfill.Update(k)
	}
	return cmd
}

func (m *Model) quit() tea.Cmd {
	m.quitting = true
	if m.stopStream != nil {
		m.stopStream()
	}
	return tea.Quit
}

// activeKeys returns the key map of what has the keys now.
func (m *Model) activeKeys() help.KeyMap {
	switch m.active {
	case ViewPresets:
		return m.presets
	case ViewBackfill:
		return m.backfill.Keys
	}
	if m.detailOpen {
		return m.detail.Keys
	}
	return m.jobs.Keys
}

// statusLine explains the connection first, then the latest notice.
func (m *Model) statusLine() string {
	s := m.c.Styles
	switch {
	case m.conn == header.Offline:
		why := "event stream closed"
		if m.connErr != nil {
			why = m.connErr.Error()
		}
		txt := "✗ connection lost"
		if errors.Is(m.connErr, client.ErrUnauthorized) {
			txt = "✗ admin token refused (check --token)"
		}
		if m.retryIn > 0 {
			txt += fmt.Sprintf(", reconnecting in %s (attempt %d)", m.retryIn.Round(10*time.Millisecond), m.attempt)
		}
		txt += ": " + why
		return s.Error.Render(common.Cut(txt, m.width))
	case m.notice != "":
		if m.noticeErr {
			return s.Error.Render(common.Cut("✗ "+m.notice, m.width))
		}
		return s.OK.Render(common.Cut("✓ "+m.notice, m.width))
	case m.statsErr != nil:
		return s.Warn.Render(common.Cut("! stats: "+m.statsErr.Error(), m.width))
	case m.conn == header.Connecting:
		return s.Muted.Render(common.Cut("connecting to "+m.opts.URL+" …", m.width))
	}
	txt := fmt.Sprintf("%d jobs", m.jobs.Len())
	if m.jobs.Filter() != "" {
		txt = fmt.Sprintf("%d of %d jobs match %q", m.jobs.Visible(), m.jobs.Len(), m.jobs.Filter())
	}
	if m.lastEventID > 0 {
		txt += fmt.Sprintf(" · last event #%d", m.lastEventID)
	}
	return s.Muted.Render(common.Cut(txt, m.width))
}

func (m *Model) helpView(h int) string {
	s := m.c.Styles
	groups := append(m.activeKeys().FullHelp(), m.keys.FullHelp()...)
	var lines []string
	lines = append(lines, s.Header.Render(common.Cut("KEYS — "+viewNames[m.active][2:]+" view (? or esc closes)", m.width)), "")
	hm := m.help
	hm.ShowAll = true
	lines = append(lines, strings.Split(hm.FullHelpView(groups), "\n")...)
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines[:h], "\n")
}

// Render returns the screen as a string (View wraps it in a tea.View).
func (m *Model) Render() string {
	bodyH := max(1, m.height-header.Height-footerHeight)
	m.header.Conn = m.conn
	m.header.Active = int(m.active)
	var body string
	switch {
	case m.showHelp:
		body = m.helpView(bodyH)
	case m.active == ViewPresets:
		body = m.presets.View()
	case m.active == ViewBackfill:
		body = m.backfill.View()
	case m.detailOpen:
		body = m.detail.View()
	default:
		body = m.jobs.View()
	}
	short := m.help.ShortHelpView(append(m.activeKeys().ShortHelp(), m.keys.ShortHelp()...))
	return m.header.View() + "\n" + body + "\n" + m.statusLine() + "\n" + common.Cut(short, m.width)
}

// View implements tea.Model: full screen.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.WindowTitle = "imgate admin"
	return v
}

// Active returns the view shown.
func (m *Model) Active() View { return m.active }

// DetailOpen reports whether the job detail is shown.
func (m *Model) DetailOpen() bool { return m.detailOpen }

// Connected reports whether the event stream is live.
func (m *Model) Connected() bool { return m.conn == header.Live }
