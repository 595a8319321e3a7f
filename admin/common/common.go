// Package common holds what every dashboard component shares: the
// Component contract, the API client and the context for its calls,
// styles, and the notice message components send to the root model.
package common

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/imgate/imgate/admin/client"
	"github.com/imgate/imgate/gateway/adminapi"
)

// Common is shared by pointer between the root model and its components.
type Common struct {
	Ctx     context.Context // parent of every API call; cancelled on quit
	Client  client.Client
	Styles  Styles
	Timeout time.Duration // per API call; default 15 s
	// After, when set, replaces tea.Tick for every delayed message (tests
	// set it to control time).
	After func(d time.Duration, msg tea.Msg) tea.Cmd
}

// Delay returns a command that delivers msg after d.
func (c *Common) Delay(d time.Duration, msg tea.Msg) tea.Cmd {
	if c.After != nil {
		return c.After(d, msg)
	}
	return tea.Tick(d, func(time.Time) tea.Msg { return msg })
}

// Call returns a context for one API call.
func (c *Common) Call() (context.Context, context.CancelFunc) {
	t := c.Timeout
	if t <= 0 {
		t = 15 * time.Second
	}
	ctx := c.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithTimeout(ctx, t)
}

// NoticeMsg asks the root to show a one-line notice in the status line.
type NoticeMsg struct {
	Text  string
	Error bool
}

// Notice returns a command that shows text in the status line.
func Notice(text string, isErr bool) tea.Cmd {
	return func() tea.Msg { return NoticeMsg{Text: text, Error: isErr} }
}

// Fit truncates s (which may hold ANSI styles) to w cells, adding "…" when
// cut, and pads it with spaces to exactly w cells.
func Fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if lipgloss.Width(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	if n := w - lipgloss.Width(s); n > 0 {
		s += strings.Repeat(" ", n)
	}
	return s
}

// Cut truncates s to w cells without padding.
func Cut(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if lipgloss.Width(s) > w {
		return ansi.Truncate(s, w, "…")
	}
	return s
}

// FormatMS formats a duration in milliseconds compactly: 850ms, 1.2s, 3m04s.
func FormatMS(ms int64) string {
	switch {
	case ms <= 0:
		return "-"
	case ms < 1000:
		return fmt.Sprintf("%dms", ms)
	case ms < 60_000:
		return fmt.Sprintf("%.1fs", float64(ms)/1000)
	default:
		d := time.Duration(ms) * time.Millisecond
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
}

// NewInput returns a text input with a steady (non-blinking) cursor: no
// timer commands, and calm screen captures.
func NewInput(prompt, placeholder string, limit int) textinput.Model {
	ti := textinput.New()
	ti.Prompt = prompt
	ti.Placeholder = placeholder
	ti.CharLimit = limit
	st := textinput.DefaultDarkStyles()
	st.Cursor.Blink = false
	ti.SetStyles(st)
	return ti
}

// Styles are the few styles of the dashboard.
type Styles struct {
	Title    lipgloss.Style
	Muted    lipgloss.Style
	Selected lipgloss.Style
	Header   lipgloss.Style
	Error    lipgloss.Style
	OK       lipgloss.Style
	Warn     lipgloss.Style
	TabOn    lipgloss.Style
	TabOff   lipgloss.Style
	Label    lipgloss.Style
}

// DefaultStyles works on dark and light terminals.
func DefaultStyles() Styles {
	return Styles{
		Title:    lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#7D56F4")),
		Muted:    lipgloss.NewStyle().Foreground(lipgloss.Color("245")),
		Selected: lipgloss.NewStyle().Reverse(true),
		Header:   lipgloss.NewStyle().Bold(true).Underline(true),
		Error:    lipgloss.NewStyle().Foreground(lipgloss.Color("#FF5F5F")),
		OK:       lipgloss.NewStyle().Foreground(lipgloss.Color("#5FD75F")),
		Warn:     lipgloss.NewStyle().Foreground(lipgloss.Color("#FFAF00")),
		TabOn:    lipgloss.NewStyle().Bold(true).Reverse(true).Padding(0, 1),
		TabOff:   lipgloss.NewStyle().Padding(0, 1).Foreground(lipgloss.Color("245")),
		Label:    lipgloss.NewStyle().Bold(true),
	}
}

// StateStyle colours a job state.
func (s Styles) StateStyle(state string) lipgloss.Style {
	switch state {
	case adminapi.StateCompleted:
		return s.OK
	case adminapi.StateFailed:
		return s.Error
	case adminapi.StateRetrying, adminapi.StateCancelled:
		return s.Warn
	case adminapi.StateRunning:
		return s.Title
	}
	return lipgloss.NewStyle()
}
