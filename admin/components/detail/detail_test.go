package detail

import (
	"strings"
	"testing"

	"github.com/imgate/imgate/admin/common"
	"github.com/imgate/imgate/gateway/adminapi"
)

// TestSiblingsListed: the job detail lists every sibling with its bytes,
// named by its directory (150x.avif).
func TestSiblingsListed(t *testing.T) {
	m := New(&common.Common{Styles: common.DefaultStyles()})
	m.SetSize(120, 40)
	m.Open(adminapi.Job{ID: 7, Key: "a.jpg", State: adminapi.StateCompleted, Variants: []adminapi.VariantOK{
		{Preset: "150x", Key: "150x/a.jpg", Width: 150, Height: 100, Bytes: 4100},
		{Preset: "150x", Format: "webp", Key: "150x.webp/a.jpg", Width: 150, Height: 100, Bytes: 3300},
		{Preset: "150x", Format: "avif", Key: "150x.avif/a.jpg", Width: 150, Height: 100, Bytes: 2900},
	}})
	out := strings.Join(m.lines(), "\n")
	for _, want := range []string{"150x.webp", "150x.avif/a.jpg", humanBytes(2900), humanBytes(3300)} {
		if !strings.Contains(out, want) {
			t.Errorf("detail lacks %q:\n%s", want, out)
		}
	}
}
