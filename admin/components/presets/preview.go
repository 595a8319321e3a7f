package presets

import (
	"fmt"
	"image"
	"image/color"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/imgate/imgate/admin/actions"
	"github.com/imgate/imgate/admin/common"
	"github.com/imgate/imgate/admin/halfblock"
	"github.com/imgate/imgate/gateway/adminapi"
)

// previewDueMsg fires Debounce after the list cursor moved.
type previewDueMsg struct{ seq int }

// preview is the picture of a preset applied to a sample original. Only
// the answer to the latest request (seq) is shown.
type preview struct {
	seq     int
	label   string
	img     image.Image
	err     string
	loading bool
}

// schedule asks for a previewDueMsg after Debounce; an earlier one pending
// is then ignored.
func (pv *preview) schedule(c *common.Common) tea.Cmd {
	pv.seq++
	return c.Delay(Debounce, previewDueMsg{seq: pv.seq})
}

// request renders p now.
func (pv *preview) request(c *common.Common, p adminapi.Preset) tea.Cmd {
	pv.seq++
	pv.loading = true
	label := p.Name
	if p.Geometry != p.Name {
		label = fmt.Sprintf("%s (%s)", p.Name, p.Geometry)
	}
	return actions.Preview(c, pv.seq, label, p)
}

// shown takes the answer to a request, unless a newer one was made.
func (pv *preview) shown(msg actions.PreviewMsg) {
	if msg.Seq != pv.seq {
		return
	}
	pv.loading = false
	pv.label = msg.Label
	if msg.Err != nil {
		pv.err, pv.img = msg.Err.Error(), nil
	} else {
		pv.err, pv.img = "", msg.Img
	}
}

// view draws the preview in at most h lines of w cells.
func (pv *preview) view(s common.Styles, w, h int) []string {
	title := "PREVIEW"
	if pv.label != "" {
		title += " " + pv.label
	}
	lines := []string{s.Header.Render(common.Cut(title, w))}
	switch {
	case pv.err != "":
		for _, l := range wrap(pv.err, w) {
			lines = append(lines, s.Error.Render(l))
		}
	case pv.img != nil:
		b := pv.img.Bounds()
		pic := halfblock.Render(pv.img, w, max(1, h-3), color.Black)
		lines = append(lines, strings.Split(pic, "\n")...)
		pw, ph := halfblock.Fit(b, w, max(1, h-3))
		info := fmt.Sprintf("%d×%d px", b.Dx(), b.Dy())
		if pw != b.Dx() || ph != b.Dy() {
			info += fmt.Sprintf(" (shown at %d×%d)", pw, ph)
		}
		lines = append(lines, s.Muted.Render(common.Cut(info, w)))
	case pv.loading:
		lines = append(lines, s.Muted.Render("rendering…"))
	default:
		lines = append(lines, s.Muted.Render(common.Cut("select a preset (p) to preview it", w)))
	}
	if pv.loading && pv.img != nil {
		lines[0] = s.Header.Render(common.Cut(title+" …", w))
	}
	return lines
}

// wrap breaks text at spaces into lines of at most w cells.
func wrap(text string, w int) []string {
	if w <= 0 {
		return nil
	}
	return strings.Split(lipgloss.Wrap(text, w, " "), "\n")
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }
