package jobs

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/imgate/imgate/admin/common"
)

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

// View implements tea.Model: exactly the size set.
func (m *Model) View() tea.View { return tea.NewView(m.render()) }

// render draws exactly the model's height in lines.
func (m *Model) render() string {
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
