package admin

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/imgate/imgate/admin/client"
	"github.com/imgate/imgate/admin/common"
	"github.com/imgate/imgate/admin/components/header"
)

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
	_, cmd := m.activeComponent().Update(k)
	return cmd
}

// statusLine explains the connection first, then the latest notice.
func (m *Model) statusLine() string {
	s := m.c.Styles
	switch {
	case m.conn.state == header.Offline:
		why := "event stream closed"
		if m.conn.err != nil {
			why = m.conn.err.Error()
		}
		txt := "✗ connection lost"
		if errors.Is(m.conn.err, client.ErrUnauthorized) {
			txt = "✗ admin token refused (check --token)"
		}
		if m.conn.retryIn > 0 {
			txt += fmt.Sprintf(", reconnecting in %s (attempt %d)", m.conn.retryIn.Round(10*time.Millisecond), m.conn.attempt)
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
	case m.conn.state == header.Connecting:
		return s.Muted.Render(common.Cut("connecting to "+m.opts.URL+" …", m.width))
	}
	txt := fmt.Sprintf("%d jobs", m.jobs.Len())
	if m.jobs.Filter() != "" {
		txt = fmt.Sprintf("%d of %d jobs match %q", m.jobs.Visible(), m.jobs.Len(), m.jobs.Filter())
	}
	if m.conn.lastID > 0 {
		txt += fmt.Sprintf(" · last event #%d", m.conn.lastID)
	}
	return s.Muted.Render(common.Cut(txt, m.width))
}

func (m *Model) helpView(h int) string {
	s := m.c.Styles
	groups := append(m.activeComponent().FullHelp(), m.keys.FullHelp()...)
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
	m.header.Conn = m.conn.state
	m.header.Active = int(m.active)
	var body string
	if m.showHelp {
		body = m.helpView(bodyH)
	} else {
		body = m.activeComponent().View().Content
	}
	short := m.help.ShortHelpView(append(m.activeComponent().ShortHelp(), m.keys.ShortHelp()...))
	return m.header.View() + "\n" + body + "\n" + m.statusLine() + "\n" + common.Cut(short, m.width)
}

// View implements tea.Model: full screen.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.WindowTitle = "imgate admin"
	return v
}
