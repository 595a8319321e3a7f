// Package header draws the dashboard's top lines: title and connection,
// job counts by state, a throughput sparkline, and the view tabs.
package header

import (
	"fmt"
	"math"
	"net/url"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/imgate/imgate/admin/common"
	"github.com/imgate/imgate/gateway/adminapi"
)

// Height is the number of lines View returns.
const Height = 4

// Conn is what the header shows about the connection.
type Conn int

// Connection states.
const (
	Connecting Conn = iota
	Live
	Offline
)

// Model is the header.
type Model struct {
	c     *common.Common
	width int
	URL   string
	Conn  Conn
	Stats adminapi.Stats
	// Webhooks are the failing webhook deliveries, shown when there are any.
	Webhooks adminapi.WebhookDeliveries
	Tabs     []string
	Active   int
}

// New returns a header for the server at url.
func New(c *common.Common, url string, tabs []string) Model {
	return Model{c: c, URL: url, Tabs: tabs}
}

// SetSize sets the width (the height is fixed).
func (m *Model) SetSize(w, _ int) { m.width = w }

var sparks = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws the last width values, scaled to the largest of them.
func Sparkline(values []float64, width int) string {
	if width <= 0 {
		return ""
	}
	if len(values) > width {
		values = values[len(values)-width:]
	}
	peak := 0.0
	for _, v := range values {
		peak = math.Max(peak, v)
	}
	var b strings.Builder
	for i := len(values); i < width; i++ {
		b.WriteRune(sparks[0])
	}
	for _, v := range values {
		i := 0
		if peak > 0 && v > 0 {
			i = int(math.Round(v / peak * float64(len(sparks)-1)))
			i = max(1, min(i, len(sparks)-1))
		}
		b.WriteRune(sparks[i])
	}
	return b.String()
}

var states = []string{adminapi.StateQueued, adminapi.StateRunning, adminapi.StateRetrying, adminapi.StateCompleted, adminapi.StateFailed, adminapi.StateCancelled}

// View renders Height lines of the model's width.
func (m Model) View() string {
	s := m.c.Styles
	w := max(m.width, 20)

	var conn string
	switch m.Conn {
	case Live:
		conn = s.OK.Render("● live")
	case Connecting:
		conn = s.Warn.Render("○ connecting")
	default:
		conn = s.Error.Render("✗ offline")
	}
	title := s.Title.Render("imgate admin") + s.Muted.Render(" · "+m.URL)
	if d := m.Webhooks.Deliveries; len(d) > 0 {
		// Newest first: the latest failure says what is wrong.
		title += "  " + s.Error.Render(fmt.Sprintf("webhooks failing %d", len(d))) + s.Muted.Render(" · "+hostOf(d[0].URL)+": "+d[0].LastError)
	}
	gap := w - lipgloss.Width(conn) - 1
	line1 := common.Fit(title, gap) + " " + conn

	var counts []string
	for _, st := range states {
		counts = append(counts, s.StateStyle(st).Render(st)+" "+fmt.Sprint(m.Stats.Counts[st]))
	}
	counts = append(counts, s.Muted.Render("depth")+" "+fmt.Sprint(m.Stats.QueueDepth))
	line2 := common.Fit(strings.Join(counts, "  "), w)

	rate := fmt.Sprintf(" %.1f jobs/s", m.Stats.JobsPerSec)
	if jt := m.Stats.JobTiming; jt.N > 0 {
		rate += fmt.Sprintf("  p50 %s p95 %s", common.FormatMS(int64(jt.P50)), common.FormatMS(int64(jt.P95)))
	}
	label := "throughput "
	sw := max(10, min(60, w-len(label)-lipgloss.Width(rate)))
	line3 := common.Fit(s.Muted.Render(label)+s.OK.Render(Sparkline(m.Stats.Throughput, sw))+rate, w)

	var tabs []string
	for i, t := range m.Tabs {
		if i == m.Active {
			tabs = append(tabs, s.TabOn.Render(t))
		} else {
			tabs = append(tabs, s.TabOff.Render(t))
		}
	}
	line4 := common.Fit(strings.Join(tabs, "│"), w)
	return line1 + "\n" + line2 + "\n" + line3 + "\n" + line4
}

// hostOf is the host of a URL (the URL itself when it has none).
func hostOf(u string) string {
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		return p.Host
	}
	return u
}
