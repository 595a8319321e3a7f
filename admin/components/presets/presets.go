// Package presets is the dashboard's preset editor: the list of size
// presets (list.go) with delete confirmation, a form to add or edit one
// with inline validation (form.go), and a preview of a preset applied to a
// sample original, drawn with half-block cells (preview.go).
package presets

import (
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/imgate/imgate/admin/actions"
	"github.com/imgate/imgate/admin/common"
	"github.com/imgate/imgate/gateway/adminapi"
)

// Debounce is how long the editor waits after the last change before it asks
// the API to validate or preview.
const Debounce = 350 * time.Millisecond

// KeyMap are the preset editor's keys.
type KeyMap struct {
	Up, Down, Add, Edit, Delete, Preview, Backfill, Reload key.Binding
	// form
	Next, Prev, Save, Close key.Binding
	// delete confirmation
	Yes, YesVariants, No key.Binding
}

// DefaultKeyMap returns the default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:          key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:        key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Add:         key.NewBinding(key.WithKeys("a", "n"), key.WithHelp("a", "add preset")),
		Edit:        key.NewBinding(key.WithKeys("e", "enter"), key.WithHelp("e/enter", "edit")),
		Delete:      key.NewBinding(key.WithKeys("d", "delete"), key.WithHelp("d", "delete")),
		Preview:     key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "preview")),
		Backfill:    key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "backfill all presets")),
		Reload:      key.NewBinding(key.WithKeys("R", "ctrl+r"), key.WithHelp("R", "reload")),
		Next:        key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab/↓", "next field")),
		Prev:        key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab/↑", "previous field")),
		Save:        key.NewBinding(key.WithKeys("enter", "ctrl+s"), key.WithHelp("enter", "save")),
		Close:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		Yes:         key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "delete preset")),
		YesVariants: key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "delete preset and its variants")),
		No:          key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "keep it")),
	}
}

type mode int

const (
	modeList mode = iota
	modeForm
	modeConfirm
)

// Model is the preset editor: the list it owns, plus the form and the
// preview, each with its own state.
type Model struct {
	c      *common.Common
	Keys   KeyMap
	list   adminapi.PresetList
	loaded bool
	err    error
	cursor int
	mode   mode
	width  int
	height int

	form    form
	preview preview
}

var _ common.Component = (*Model)(nil)

// New returns an empty editor; Init fills it.
func New(c *common.Common) *Model {
	return &Model{c: c, Keys: DefaultKeyMap(), form: newForm()}
}

// Init loads the preset list.
func (m *Model) Init() tea.Cmd { return m.Load() }

// SetSize sets the drawing area.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.form.setWidth(max(8, m.leftWidth()-14))
}

func (m *Model) leftWidth() int {
	if m.width < 60 {
		return m.width
	}
	return min(48, m.width/2)
}

// Capturing reports whether the editor takes all keys (form or confirm open).
func (m *Model) Capturing() bool { return m.mode != modeList }

// Presets returns the current list.
func (m *Model) Presets() adminapi.PresetList { return m.list }

// FormError returns the validation error shown in the form ("" when valid).
func (m *Model) FormError() string { return m.form.errorText() }

// Load fetches the preset list.
func (m *Model) Load() tea.Cmd { return actions.LoadPresets(m.c) }

func (m *Model) selected() (adminapi.Preset, bool) {
	if m.cursor < 0 || m.cursor >= len(m.list.Presets) {
		return adminapi.Preset{}, false
	}
	return m.list.Presets[m.cursor], true
}

// Update handles keys and the editor's messages.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case actions.PresetsLoadedMsg:
		return m, m.loadedList(msg)
	case validateDueMsg:
		if msg.seq != m.form.valSeq || m.mode != modeForm {
			return m, nil
		}
		p, err := m.form.preset()
		if err != nil {
			return m, nil
		}
		return m, tea.Batch(actions.ValidatePreset(m.c, msg.seq, p), m.preview.request(m.c, p))
	case actions.ValidatedMsg:
		return m, m.form.validated(msg)
	case previewDueMsg:
		if msg.seq != m.preview.seq || m.mode != modeList {
			return m, nil
		}
		if p, ok := m.selected(); ok {
			return m, m.preview.request(m.c, p)
		}
		return m, nil
	case actions.PreviewMsg:
		m.preview.shown(msg)
		return m, nil
	case tea.KeyPressMsg:
		switch m.mode {
		case modeForm:
			return m, m.updateForm(msg)
		case modeConfirm:
			return m, m.updateConfirm(msg)
		}
		return m, m.updateList(msg)
	}
	if m.mode == modeForm {
		return m, m.form.updateInput(msg)
	}
	return m, nil
}

// PreviewSelected asks for a preview of the selected preset (used when the
// view becomes visible).
func (m *Model) PreviewSelected() tea.Cmd {
	if m.mode != modeList || m.preview.img != nil || m.preview.loading {
		return nil
	}
	if p, ok := m.selected(); ok {
		return m.preview.request(m.c, p)
	}
	return nil
}

// ShortHelp implements help.KeyMap for the current mode.
func (m *Model) ShortHelp() []key.Binding {
	k := m.Keys
	switch m.mode {
	case modeForm:
		return []key.Binding{k.Next, k.Prev, k.Save, k.Close}
	case modeConfirm:
		return []key.Binding{k.Yes, k.YesVariants, k.No}
	}
	return []key.Binding{k.Up, k.Down, k.Add, k.Edit, k.Delete, k.Preview, k.Backfill}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.Keys
	return [][]key.Binding{
		{k.Up, k.Down, k.Add, k.Edit, k.Delete, k.Preview, k.Backfill, k.Reload},
		{k.Next, k.Prev, k.Save, k.Close},
		{k.Yes, k.YesVariants, k.No},
	}
}

// View implements tea.Model: exactly the size set.
func (m *Model) View() tea.View { return tea.NewView(m.render()) }

// render lays out the list or the form on the left and the preview on the
// right (below on narrow screens), exactly the model's height in lines.
func (m *Model) render() string {
	s := m.c.Styles
	lw := m.leftWidth()
	var left []string
	switch m.mode {
	case modeForm:
		left = m.form.view(s, lw)
	default:
		left = m.listView(lw)
	}
	h := max(m.height, 1)
	var right []string
	if m.width >= 60 {
		right = m.preview.view(s, m.width-lw-2, h)
	} else if len(left) < h-4 {
		// narrow: preview below
		left = append(left, "")
		left = append(left, m.preview.view(s, m.width, h-len(left))...)
	}
	out := make([]string, h)
	for i := 0; i < h; i++ {
		l := ""
		if i < len(left) {
			l = left[i]
		}
		if m.width >= 60 {
			r := ""
			if i < len(right) {
				r = right[i]
			}
			out[i] = common.Fit(l, lw) + s.Muted.Render("│") + " " + r
		} else {
			out[i] = common.Fit(l, m.width)
		}
	}
	return joinLines(out)
}
