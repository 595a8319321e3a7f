// Package presets is the dashboard's preset editor: the list of size
// presets, a form to add or edit one with inline validation, delete with
// confirmation, and a preview of a preset applied to a sample original,
// drawn with half-block cells.
package presets

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/imgate/imgate/admin/common"
	"github.com/imgate/imgate/admin/halfblock"
	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/resizer"
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

// Fields of the form, in order.
const (
	fName = iota
	fGeometry
	fFormat
	fQuality
	fCrop
	fGravity
	fBackground
	nFields
)

var fieldLabels = [nFields]string{"name", "geometry", "format", "quality", "crop", "gravity", "background"}
var fieldHints = [nFields]string{"default: the geometry", "e.g. 150x, x150, 50x50^, 50%", "jpeg, png, gif; empty = as input", "1-100; empty = 85", "y/n (with ^)", "center, north, …", "#rrggbb behind alpha"}

// Messages.
type (
	// LoadedMsg carries the preset list after a load or a change.
	LoadedMsg struct {
		List   adminapi.PresetList
		Err    error
		Notice string
		Saved  bool // a save or delete succeeded: close the form
	}
	validatedMsg struct {
		seq int
		v   adminapi.Validation
		err error
	}
	previewDueMsg struct{ seq int }
	previewMsg    struct {
		seq   int
		label string
		img   image.Image
		err   error
	}
	validateDueMsg struct{ seq int }
)

// Model is the preset editor.
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

	// form
	editing  string // name of the preset being edited; "" = new
	inputs   [nFields]textinput.Model
	focus    int
	localErr string
	apiVal   *adminapi.Validation
	valSeq   int
	saving   bool
	saveErr  string

	// preview
	prevSeq     int
	prevLabel   string
	prevImg     image.Image
	prevErr     string
	prevLoading bool
}

// New returns an empty editor; call Load to fill it.
func New(c *common.Common) Model {
	m := Model{c: c, Keys: DefaultKeyMap()}
	for i := range m.inputs {
		m.inputs[i] = common.NewInput("", fieldHints[i], 64)
	}
	return m
}

// SetSize sets the drawing area.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	for i := range m.inputs {
		m.inputs[i].SetWidth(max(8, m.leftWidth()-14))
	}
}

func (m Model) leftWidth() int {
	if m.width < 60 {
		return m.width
	}
	return min(48, m.width/2)
}

// Capturing reports whether the editor takes all keys (form or confirm open).
func (m Model) Capturing() bool { return m.mode != modeList }

// Presets returns the current list.
func (m Model) Presets() adminapi.PresetList { return m.list }

// FormError returns the validation error shown in the form ("" when valid).
func (m Model) FormError() string {
	if m.localErr != "" {
		return m.localErr
	}
	if m.apiVal != nil && !m.apiVal.Valid {
		return m.apiVal.Error
	}
	return m.saveErr
}

// Load fetches the preset list.
func (m Model) Load() tea.Cmd {
	c := m.c
	return func() tea.Msg {
		ctx, cancel := c.Call()
		defer cancel()
		l, err := c.Client.Presets(ctx)
		return LoadedMsg{List: l, Err: err}
	}
}

func (m Model) selected() (adminapi.Preset, bool) {
	if m.cursor < 0 || m.cursor >= len(m.list.Presets) {
		return adminapi.Preset{}, false
	}
	return m.list.Presets[m.cursor], true
}

// formPreset reads the form; the error is about fields the wire type
// cannot even hold (quality not a number).
func (m Model) formPreset() (adminapi.Preset, error) {
	v := func(i int) string { return strings.TrimSpace(m.inputs[i].Value()) }
	p := adminapi.Preset{Name: v(fName), Geometry: v(fGeometry), Format: v(fFormat), Gravity: v(fGravity), Background: v(fBackground)}
	if p.Name == "" {
		p.Name = p.Geometry
	}
	if q := v(fQuality); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil {
			return p, fmt.Errorf("quality %q: want a number 1..100", q)
		}
		p.Quality = n
	}
	switch strings.ToLower(v(fCrop)) {
	case "", "n", "no", "false", "0":
	case "y", "yes", "true", "1":
		p.Crop = true
	default:
		return p, fmt.Errorf("crop %q: want y or n", v(fCrop))
	}
	return p, nil
}

// localValidate checks the form with the resizer's own parser.
func localValidate(p adminapi.Preset) error {
	rp := resizer.Preset{Name: p.Name, Geometry: p.Geometry, Format: p.Format, Quality: p.Quality, Crop: p.Crop, Gravity: p.Gravity, Background: p.Background}
	if err := rp.Validate(); err != nil {
		var re *resizer.Error
		if errors.As(err, &re) && re.Msg != "" {
			return errors.New(re.Msg)
		}
		return err
	}
	return nil
}

func (m *Model) openForm(p adminapi.Preset, editing string) tea.Cmd {
	m.mode = modeForm
	m.editing = editing
	m.saving, m.saveErr, m.apiVal = false, "", nil
	vals := [nFields]string{p.Name, p.Geometry, p.Format, "", "", p.Gravity, p.Background}
	if p.Quality != 0 {
		vals[fQuality] = strconv.Itoa(p.Quality)
	}
	if p.Crop {
		vals[fCrop] = "y"
	}
	for i := range m.inputs {
		m.inputs[i].SetValue(vals[i])
		m.inputs[i].Blur()
	}
	m.focus = fGeometry
	if editing == "" && p.Name == "" {
		m.focus = fGeometry
	}
	cmd := m.inputs[m.focus].Focus()
	return tea.Batch(cmd, m.changed())
}

// changed revalidates the form locally now and schedules the API
// validation and the preview.
func (m *Model) changed() tea.Cmd {
	m.apiVal = nil
	m.saveErr = ""
	m.valSeq++
	p, err := m.formPreset()
	if err == nil && p.Geometry == "" {
		err = errors.New("geometry is required (e.g. 150x, 50x50^)")
	}
	if err == nil {
		err = localValidate(p)
	}
	if err != nil {
		m.localErr = err.Error()
		return nil
	}
	m.localErr = ""
	seq := m.valSeq
	return m.c.Delay(Debounce, validateDueMsg{seq: seq})
}

func (m *Model) schedulePreview() tea.Cmd {
	m.prevSeq++
	seq := m.prevSeq
	return m.c.Delay(Debounce, previewDueMsg{seq: seq})
}

func (m *Model) previewCmd(p adminapi.Preset) tea.Cmd {
	m.prevSeq++
	seq, c := m.prevSeq, m.c
	m.prevLoading = true
	label := p.Name
	if p.Geometry != p.Name {
		label = fmt.Sprintf("%s (%s)", p.Name, p.Geometry)
	}
	return func() tea.Msg {
		ctx, cancel := c.Call()
		defer cancel()
		img, err := c.Client.Preview(ctx, adminapi.PreviewRequest{Preset: p})
		return previewMsg{seq: seq, label: label, img: img, err: err}
	}
}

// PreviewSelected asks for a preview of the selected preset (used when the
// view becomes visible).
func (m *Model) PreviewSelected() tea.Cmd {
	if m.mode != modeList || m.prevImg != nil || m.prevLoading {
		return nil
	}
	if p, ok := m.selected(); ok {
		return m.previewCmd(p)
	}
	return nil
}

// Update handles keys and the editor's messages.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case LoadedMsg:
		m.saving = false
		if msg.Err != nil {
			if m.mode == modeForm {
				m.saveErr = msg.Err.Error()
				return m, nil
			}
			m.err = msg.Err
			return m, common.Notice("presets: "+msg.Err.Error(), true)
		}
		first := !m.loaded
		m.list, m.loaded, m.err = msg.List, true, nil
		if m.cursor >= len(m.list.Presets) {
			m.cursor = max(0, len(m.list.Presets)-1)
		}
		var cmds []tea.Cmd
		if msg.Saved {
			m.mode = modeList
			for i := range m.inputs {
				m.inputs[i].Blur()
			}
		}
		if msg.Notice != "" {
			cmds = append(cmds, common.Notice(msg.Notice, false))
		}
		if first && m.prevImg == nil {
			cmds = append(cmds, m.schedulePreview())
		}
		return m, tea.Batch(cmds...)
	case validateDueMsg:
		if msg.seq != m.valSeq || m.mode != modeForm {
			return m, nil
		}
		p, err := m.formPreset()
		if err != nil {
			return m, nil
		}
		c, seq := m.c, msg.seq
		validate := func() tea.Msg {
			ctx, cancel := c.Call()
			defer cancel()
			v, err := c.Client.ValidatePreset(ctx, p)
			return validatedMsg{seq: seq, v: v, err: err}
		}
		return m, tea.Batch(validate, m.previewCmd(p))
	case validatedMsg:
		if msg.seq != m.valSeq {
			return m, nil
		}
		if msg.err != nil {
			// The API could not answer: local validation still holds.
			return m, common.Notice("validate: "+msg.err.Error(), true)
		}
		v := msg.v
		m.apiVal = &v
		return m, nil
	case previewDueMsg:
		if msg.seq != m.prevSeq || m.mode != modeList {
			return m, nil
		}
		if p, ok := m.selected(); ok {
			return m, m.previewCmd(p)
		}
		return m, nil
	case previewMsg:
		if msg.seq != m.prevSeq {
			return m, nil
		}
		m.prevLoading = false
		m.prevLabel = msg.label
		if msg.err != nil {
			m.prevErr, m.prevImg = msg.err.Error(), nil
		} else {
			m.prevErr, m.prevImg = "", msg.img
		}
		return m, nil
	case tea.KeyPressMsg:
		switch m.mode {
		case modeForm:
			return m.updateForm(msg)
		case modeConfirm:
			return m.updateConfirm(msg)
		}
		return m.updateList(msg)
	default:
		if m.mode == modeForm {
			var cmd tea.Cmd
			m.inputs[m.focus], cmd = m.inputs[m.focus].Update(msg)
			return m, cmd
		}
	}
	return m, nil
}

func (m Model) updateList(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.Keys.Up):
		if m.cursor > 0 {
			m.cursor--
			return m, m.schedulePreview()
		}
	case key.Matches(msg, m.Keys.Down):
		if m.cursor < len(m.list.Presets)-1 {
			m.cursor++
			return m, m.schedulePreview()
		}
	case key.Matches(msg, m.Keys.Add):
		return m, m.openForm(adminapi.Preset{}, "")
	case key.Matches(msg, m.Keys.Edit):
		if p, ok := m.selected(); ok {
			return m, m.openForm(p, p.Name)
		}
	case key.Matches(msg, m.Keys.Delete):
		if _, ok := m.selected(); ok {
			m.mode = modeConfirm
		}
	case key.Matches(msg, m.Keys.Preview):
		if p, ok := m.selected(); ok {
			return m, m.previewCmd(p)
		}
	case key.Matches(msg, m.Keys.Backfill):
		return m, StartBackfillCmd(m.c, nil)
	case key.Matches(msg, m.Keys.Reload):
		return m, m.Load()
	}
	return m, nil
}

// StartBackfillCmd starts a backfill of presets (all when empty).
func StartBackfillCmd(c *common.Common, presets []string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := c.Call()
		defer cancel()
		b, err := c.Client.StartBackfill(ctx, adminapi.BackfillRequest{Presets: presets})
		if err != nil {
			return common.NoticeMsg{Text: "backfill: " + err.Error(), Error: true}
		}
		return common.BackfillStartedMsg{Backfill: b}
	}
}

func (m Model) updateConfirm(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	p, ok := m.selected()
	if !ok {
		m.mode = modeList
		return m, nil
	}
	del := func(withVariants bool) tea.Cmd {
		c := m.c
		return func() tea.Msg {
			ctx, cancel := c.Call()
			defer cancel()
			l, err := c.Client.DeletePreset(ctx, p.Name, withVariants)
			if err != nil {
				return common.NoticeMsg{Text: fmt.Sprintf("delete %s: %v", p.Name, err), Error: true}
			}
			return LoadedMsg{List: l, Saved: true, Notice: fmt.Sprintf("preset %s deleted (presets v%d)", p.Name, l.Version)}
		}
	}
	switch {
	case key.Matches(msg, m.Keys.Yes):
		m.mode = modeList
		return m, del(false)
	case key.Matches(msg, m.Keys.YesVariants):
		m.mode = modeList
		return m, del(true)
	case key.Matches(msg, m.Keys.No):
		m.mode = modeList
	}
	return m, nil
}

func (m Model) updateForm(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.Keys.Close):
		m.mode = modeList
		for i := range m.inputs {
			m.inputs[i].Blur()
		}
		return m, m.schedulePreview()
	case key.Matches(msg, m.Keys.Save):
		if m.saving {
			return m, nil
		}
		p, err := m.formPreset()
		if err == nil {
			err = localValidate(p)
		}
		if err != nil {
			m.localErr = err.Error()
			return m, nil
		}
		if m.apiVal != nil && !m.apiVal.Valid {
			return m, nil
		}
		m.saving = true
		c, editing := m.c, m.editing
		return m, func() tea.Msg {
			ctx, cancel := c.Call()
			defer cancel()
			var l adminapi.PresetList
			var err error
			if editing == "" {
				l, err = c.Client.CreatePreset(ctx, p)
			} else {
				l, err = c.Client.UpdatePreset(ctx, editing, p)
			}
			if err != nil {
				return LoadedMsg{Err: err}
			}
			return LoadedMsg{List: l, Saved: true, Notice: fmt.Sprintf("preset %s saved (presets v%d) — press b to backfill existing originals", p.Name, l.Version)}
		}
	case key.Matches(msg, m.Keys.Next):
		m.inputs[m.focus].Blur()
		m.focus = (m.focus + 1) % nFields
		return m, m.inputs[m.focus].Focus()
	case key.Matches(msg, m.Keys.Prev):
		m.inputs[m.focus].Blur()
		m.focus = (m.focus + nFields - 1) % nFields
		return m, m.inputs[m.focus].Focus()
	}
	before := m.inputs[m.focus].Value()
	var cmd tea.Cmd
	m.inputs[m.focus], cmd = m.inputs[m.focus].Update(msg)
	if m.inputs[m.focus].Value() != before {
		return m, tea.Batch(cmd, m.changed())
	}
	return m, cmd
}

// ShortHelp implements help.KeyMap for the current mode.
func (m Model) ShortHelp() []key.Binding {
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
func (m Model) FullHelp() [][]key.Binding {
	k := m.Keys
	return [][]key.Binding{
		{k.Up, k.Down, k.Add, k.Edit, k.Delete, k.Preview, k.Backfill, k.Reload},
		{k.Next, k.Prev, k.Save, k.Close},
		{k.Yes, k.YesVariants, k.No},
	}
}

// View renders exactly the model's height in lines.
func (m Model) View() string {
	s := m.c.Styles
	lw := m.leftWidth()
	var left []string
	switch m.mode {
	case modeForm:
		left = m.formView(lw)
	default:
		left = m.listView(lw)
	}
	h := max(m.height, 1)
	var right []string
	if m.width >= 60 {
		right = m.previewView(m.width-lw-2, h)
	} else if len(left) < h-4 {
		// narrow: preview below
		left = append(left, "")
		left = append(left, m.previewView(m.width, h-len(left))...)
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
	return strings.Join(out, "\n")
}

func (m Model) listView(w int) []string {
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
		line := common.Fit(fmt.Sprintf(" %-14s %-12s %s", p.Name, p.Geometry, strings.Join(opts, " ")), w)
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

func (m Model) formView(w int) []string {
	s := m.c.Styles
	title := "NEW PRESET"
	if m.editing != "" {
		title = "EDIT PRESET " + m.editing
	}
	lines := []string{s.Header.Render(common.Cut(title, w))}
	for i := range m.inputs {
		marker := "  "
		if i == m.focus {
			marker = s.Title.Render("▸ ")
		}
		lines = append(lines, common.Fit(marker+s.Label.Render(fmt.Sprintf("%-10s", fieldLabels[i]))+" "+m.inputs[i].View(), w))
	}
	lines = append(lines, "")
	switch {
	case m.FormError() != "":
		for _, l := range wrap("✗ "+m.FormError(), w) {
			lines = append(lines, s.Error.Render(l))
		}
	case m.saving:
		lines = append(lines, s.Muted.Render("saving…"))
	case m.apiVal != nil && m.apiVal.Valid:
		lines = append(lines, s.OK.Render("✓ valid (checked by the server)"))
	default:
		lines = append(lines, s.OK.Render("✓ valid"))
	}
	lines = append(lines, s.Muted.Render(common.Cut("enter saves · esc cancels", w)))
	return lines
}

// wrap breaks text at spaces into lines of at most w cells.
func wrap(text string, w int) []string {
	if w <= 0 {
		return nil
	}
	return strings.Split(lipgloss.Wrap(text, w, " "), "\n")
}

func (m Model) previewView(w, h int) []string {
	s := m.c.Styles
	title := "PREVIEW"
	if m.prevLabel != "" {
		title += " " + m.prevLabel
	}
	lines := []string{s.Header.Render(common.Cut(title, w))}
	switch {
	case m.prevErr != "":
		for _, l := range wrap(m.prevErr, w) {
			lines = append(lines, s.Error.Render(l))
		}
	case m.prevImg != nil:
		b := m.prevImg.Bounds()
		pic := halfblock.Render(m.prevImg, w, max(1, h-3), color.Black)
		lines = append(lines, strings.Split(pic, "\n")...)
		pw, ph := halfblock.Fit(b, w, max(1, h-3))
		info := fmt.Sprintf("%d×%d px", b.Dx(), b.Dy())
		if pw != b.Dx() || ph != b.Dy() {
			info += fmt.Sprintf(" (shown at %d×%d)", pw, ph)
		}
		lines = append(lines, s.Muted.Render(common.Cut(info, w)))
	case m.prevLoading:
		lines = append(lines, s.Muted.Render("rendering…"))
	default:
		lines = append(lines, s.Muted.Render(common.Cut("select a preset (p) to preview it", w)))
	}
	if m.prevLoading && m.prevImg != nil {
		lines[0] = s.Header.Render(common.Cut(title+" …", w))
	}
	return lines
}
