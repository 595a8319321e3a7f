package presets

import (
	"slices"
	"testing"

	"github.com/imgate/imgate/gateway/adminapi"
)

// TestFormFormats: the form edits a preset's sibling formats and checks
// them with the resizer's own rules.
func TestFormFormats(t *testing.T) {
	f := newForm()
	f.fill(adminapi.Preset{Name: "thumb", Geometry: "64x64", Formats: []string{"avif", "webp"}}, "thumb")
	if got := f.inputs[fFormats].Value(); got != "avif,webp" {
		t.Fatalf("formats field %q", got)
	}
	for in, want := range map[string][]string{"webp": {"webp"}, "avif, webp": {"avif", "webp"}, "": nil} {
		f.inputs[fFormats].SetValue(in)
		p, err := f.preset()
		if err != nil || !slices.Equal(p.Formats, want) {
			t.Errorf("%q: %v %v, want %v", in, p.Formats, err, want)
		}
		if err := localValidate(p); err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}
	f.inputs[fFormats].SetValue("heic")
	p, _ := f.preset()
	if localValidate(p) == nil {
		t.Error("heic accepted as a sibling format")
	}
}
