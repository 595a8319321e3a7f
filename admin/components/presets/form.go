package presets

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/imgate/imgate/admin/actions"
	"github.com/imgate/imgate/admin/common"
	"github.com/imgate/imgate/gateway/adminapi"
	"github.com/imgate/imgate/resizer"
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
	fFormats
	nFields
)

var fieldLabels = [nFields]string{"name", "geometry", "format", "quality", "crop", "gravity", "background", "siblings"}
var fieldHints = [nFields]string{"default: the geometry", "e.g. 150x, x150, 50x50^, 50%", "jpeg, png, gif; empty = as input", "1-100; empty = 85", "y/n (with ^)", "center, north, …", "#rrggbb behind alpha", "avif, webp; empty = none"}

// validateDueMsg fires Debounce after the last change of the form.
type validateDueMsg struct{ seq int }

// form adds or edits one preset. It validates locally on every change
// (the resizer's own parser) and, after Debounce, on the server.
type form struct {
	editing  string // name of the preset being edited; "" = new
	inputs   [nFields]textinput.Model
	focus    int
	localErr string
	apiVal   *adminapi.Validation
	valSeq   int // only the server's answer to the latest change counts
	saving   bool
	saveErr  string
}

func newForm() form {
	var f form
	for i := range f.inputs {
		f.inputs[i] = common.NewInput("", fieldHints[i], 64)
	}
	return f
}

func (f *form) setWidth(w int) {
	for i := range f.inputs {
		f.inputs[i].SetWidth(w)
	}
}

func (f *form) blur() {
	for i := range f.inputs {
		f.inputs[i].Blur()
	}
}

// errorText is the error shown in the form ("" when valid).
func (f *form) errorText() string {
	if f.localErr != "" {
		return f.localErr
	}
	if f.apiVal != nil && !f.apiVal.Valid {
		return f.apiVal.Error
	}
	return f.saveErr
}

// preset reads the form; the error is about fields the wire type cannot
// even hold (quality not a number).
func (f *form) preset() (adminapi.Preset, error) {
	v := func(i int) string { return strings.TrimSpace(f.inputs[i].Value()) }
	p := adminapi.Preset{Name: v(fName), Geometry: v(fGeometry), Format: v(fFormat), Gravity: v(fGravity), Background: v(fBackground)}
	p.Formats = strings.FieldsFunc(v(fFormats), func(r rune) bool { return r == ',' || r == ' ' })
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
	rp := resizer.Preset{Name: p.Name, Geometry: p.Geometry, Format: p.Format, Quality: p.Quality, Crop: p.Crop, Gravity: p.Gravity, Background: p.Background, Formats: p.Formats}
	if err := rp.Validate(); err != nil {
		var re *resizer.Error
		if errors.As(err, &re) && re.Msg != "" {
			return errors.New(re.Msg)
		}
		return err
	}
	return nil
}

// fill puts p in the fields and focuses the geometry.
func (f *form) fill(p adminapi.Preset, editing string) tea.Cmd {
	f.editing = editing
	f.saving, f.saveErr, f.apiVal = false, "", nil
	vals := [nFields]string{p.Name, p.Geometry, p.Format, "", "", p.Gravity, p.Background, strings.Join(p.Formats, ",")}
	if p.Quality != 0 {
		vals[fQuality] = strconv.Itoa(p.Quality)
	}
	if p.Crop {
		vals[fCrop] = "y"
	}
	for i := range f.inputs {
		f.inputs[i].SetValue(vals[i])
		f.inputs[i].Blur()
	}
	f.focus = fGeometry
	return f.inputs[f.focus].Focus()
}

// changed revalidates the form locally now and schedules the API
// validation (and with it the preview).
func (f *form) changed(c *common.Common) tea.Cmd {
	f.apiVal = nil
	f.saveErr = ""
	f.valSeq++
	p, err := f.preset()
	if err == nil && p.Geometry == "" {
		err = errors.New("geometry is required (e.g. 150x, 50x50^)")
	}
	if err == nil {
		err = localValidate(p)
	}
	if err != nil {
		f.localErr = err.Error()
		return nil
	}
	f.localErr = ""
	return c.Delay(Debounce, validateDueMsg{seq: f.valSeq})
}

// validated takes the server's verdict on the latest change.
func (f *form) validated(msg actions.ValidatedMsg) tea.Cmd {
	if msg.Seq != f.valSeq {
		return nil
	}
	if msg.Err != nil {
		// The API could not answer: local validation still holds.
		return common.Notice("validate: "+msg.Err.Error(), true)
	}
	v := msg.Validation
	f.apiVal = &v
	return nil
}

// updateInput passes a message to the focused field.
func (f *form) updateInput(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	f.inputs[f.focus], cmd = f.inputs[f.focus].Update(msg)
	return cmd
}

func (f *form) moveFocus(by int) tea.Cmd {
	f.inputs[f.focus].Blur()
	f.focus = (f.focus + nFields + by) % nFields
	return f.inputs[f.focus].Focus()
}

// save sends the form when it is valid and no save is under way.
func (f *form) save(c *common.Common) tea.Cmd {
	if f.saving {
		return nil
	}
	p, err := f.preset()
	if err == nil {
		err = localValidate(p)
	}
	if err != nil {
		f.localErr = err.Error()
		return nil
	}
	if f.apiVal != nil && !f.apiVal.Valid {
		return nil
	}
	f.saving = true
	return actions.SavePreset(c, f.editing, p)
}

func (m *Model) openForm(p adminapi.Preset, editing string) tea.Cmd {
	m.mode = modeForm
	cmd := m.form.fill(p, editing)
	return tea.Batch(cmd, m.form.changed(m.c))
}

func (m *Model) updateForm(msg tea.KeyPressMsg) tea.Cmd {
	f := &m.form
	switch {
	case key.Matches(msg, m.Keys.Close):
		m.mode = modeList
		f.blur()
		return m.preview.schedule(m.c)
	case key.Matches(msg, m.Keys.Save):
		return f.save(m.c)
	case key.Matches(msg, m.Keys.Next):
		return f.moveFocus(1)
	case key.Matches(msg, m.Keys.Prev):
		return f.moveFocus(-1)
	}
	before := f.inputs[f.focus].Value()
	cmd := f.updateInput(msg)
	if f.inputs[f.focus].Value() != before {
		return tea.Batch(cmd, f.changed(m.c))
	}
	return cmd
}

// view draws the form in lines of at most w cells.
func (f *form) view(s common.Styles, w int) []string {
	title := "NEW PRESET"
	if f.editing != "" {
		title = "EDIT PRESET " + f.editing
	}
	lines := []string{s.Header.Render(common.Cut(title, w))}
	for i := range f.inputs {
		marker := "  "
		if i == f.focus {
			marker = s.Title.Render("▸ ")
		}
		lines = append(lines, common.Fit(marker+s.Label.Render(fmt.Sprintf("%-10s", fieldLabels[i]))+" "+f.inputs[i].View(), w))
	}
	lines = append(lines, "")
	switch {
	case f.errorText() != "":
		for _, l := range wrap("✗ "+f.errorText(), w) {
			lines = append(lines, s.Error.Render(l))
		}
	case f.saving:
		lines = append(lines, s.Muted.Render("saving…"))
	case f.apiVal != nil && f.apiVal.Valid:
		lines = append(lines, s.OK.Render("✓ valid (checked by the server)"))
	default:
		lines = append(lines, s.OK.Render("✓ valid"))
	}
	lines = append(lines, s.Muted.Render(common.Cut("enter saves · esc cancels", w)))
	return lines
}
