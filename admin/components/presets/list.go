package presets

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/imgate/imgate/admin/actions"
	"github.com/imgate/imgate/admin/common"
	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/resizer"
)

// loadedList takes the preset list after a load, a save or a delete.
func (m *Model) loadedList(msg actions.PresetsLoadedMsg) tea.Cmd {
	m.form.saving = false
	if msg.Err != nil {
		if m.mode == modeForm {
			m.form.saveErr = msg.Err.Error()
			return nil
		}
		m.err = msg.Err
		return common.Notice("presets: "+msg.Err.Error(), true)
	}
	first := !m.loaded
	m.list, m.loaded, m.err = msg.List, true, nil
	if m.cursor >= len(m.list.Presets) {
		m.cursor = max(0, len(m.list.Presets)-1)
	}
	var cmds []tea.Cmd
	if msg.Saved {
		m.mode = modeList
		m.form.blur()
	}
	if msg.Notice != "" {
		cmds = append(cmds, common.Notice(msg.Notice, false))
	}
	if first && m.preview.img == nil {
		cmds = append(cmds, m.preview.schedule(m.c))
	}
	return tea.Batch(cmds...)
}

func (m *Model) updateList(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.Keys.Up):
		if m.cursor > 0 {
			m.cursor--
			return m.preview.schedule(m.c)
		}
	case key.Matches(msg, m.Keys.Down):
		if m.cursor < len(m.list.Presets)-1 {
			m.cursor++
			return m.preview.schedule(m.c)
		}
	case key.Matches(msg, m.Keys.Add):
		return m.openForm(adminapi.Preset{}, "")
	case key.Matches(msg, m.Keys.Edit):
		if p, ok := m.selected(); ok {
			return m.openForm(p, p.Name)
		}
	case key.Matches(msg, m.Keys.Delete):
		if _, ok := m.selected(); ok {
			m.mode = modeConfirm
		}
	case key.Matches(msg, m.Keys.Preview):
		if p, ok := m.selected(); ok {
			return m.preview.request(m.c, p)
		}
	case key.Matches(msg, m.Keys.Backfill):
		return actions.StartBackfill(m.c, nil)
	case key.Matches(msg, m.Keys.Reload):
		return m.Load()
	}
	return nil
}

func (m *Model) updateConfirm(msg tea.KeyPressMsg) tea.Cmd {
	p, ok := m.selected()
	if !ok {
		m.mode = modeList
		return nil
	}
	switch {
	case key.Matches(msg, m.Keys.Yes):
		m.mode = modeList
		return actions.DeletePreset(m.c, p.Name, false)
	case key.Matches(msg, m.Keys.YesVariants):
		m.mode = modeList
		return actions.DeletePreset(m.c, p.Name, true)
	case key.Matches(msg, m.Keys.No):
		m.mode = modeList
	}
	return nil
}

func (m *Model) listView(w int) []string {
	s := m.c.Styles
	var lines []string
	lines = append(lines, s.Header.Render(common.Fit(fmt.Sprintf("PRESETS (v%d)", m.list.Version), w)))
	if !m.loaded {
		msg := "loading…"
		if m.err != nil {
			msg = "could not load: " + m.err.Error()
		}
		return append(lines, s.Muted.Render(common.Cut(msg, w)))
	}
	if len(m.list.Presets) == 0 {
		lines = append(lines, s.Muted.Render(common.Cut("no presets — press a to add one", w)))
	}
	for i, p := range m.list.Presets {
		line := common.Fit(fmt.Sprintf(" %-14s %-12s %s", p.Name, p.Geometry, strings.Join(options(p), " ")), w)
		if i == m.cursor {
			line = s.Selected.Render(line)
		}
		lines = append(lines, line)
	}
	if m.mode == modeConfirm {
		if p, ok := m.selected(); ok {
			lines = append(lines, "", s.Warn.Render(common.Cut(fmt.Sprintf("delete preset %s?", p.Name), w)),
				common.Cut("y: delete  v: and its variants  n: keep", w))
		}
	}
	return lines
}

// options lists what p sets beyond its geometry (defaults left out).
func options(p adminapi.Preset) []string {
	opts := []string{}
	if p.Format != "" {
		opts = append(opts, p.Format)
	}
	if p.Quality != 0 && p.Quality != resizer.DefaultQuality {
		opts = append(opts, fmt.Sprintf("q%d", p.Quality))
	}
	if p.Crop {
		opts = append(opts, "crop")
	}
	if p.Gravity != "" && p.Gravity != "center" {
		opts = append(opts, p.Gravity)
	}
	return opts
}
