package resizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// DefaultQuality is the JPEG quality when a preset leaves it at 0.
const DefaultQuality = 85

// Preset is one variant to render: a geometry plus output options. The zero
// value of every option is the default.
type Preset struct {
	Name         string `json:"name"`                    // directory in NAME-resized; defaults to Geometry
	Geometry     string `json:"geometry"`                // ImageMagick-style, see Geometry
	Format       string `json:"format,omitempty"`        // "", "jpeg", "png", "gif"; "" = same as input
	Quality      int    `json:"quality,omitempty"`       // JPEG quality 1..100; 0 = 85
	Crop         bool   `json:"crop,omitempty"`          // with '^': crop to the box
	Gravity      string `json:"gravity,omitempty"`       // crop anchor: center (default), north, south, east, west, northeast, northwest, southeast, southwest
	Background   string `json:"background,omitempty"`    // "#rrggbb" behind transparent pixels in JPEG output; default white
	KeepMetadata bool   `json:"keep_metadata,omitempty"` // reserved: metadata is always stripped today (Validate refuses true)
	// Formats adds sibling variants in these formats ("avif", "webp") next
	// to the primary, at SiblingKey; served by content negotiation.
	Formats []string `json:"formats,omitempty"`
	// Animated: an animated GIF/WebP original gives an animated GIF variant
	// (nil or true, the default) or its first frame (false).
	Animated *bool `json:"animated,omitempty"`
}

var gravities = map[string]bool{
	"center": true, "north": true, "south": true, "east": true, "west": true,
	"northeast": true, "northwest": true, "southeast": true, "southwest": true,
}

// formatAliases maps accepted spellings to canonical format names.
var formatAliases = map[string]string{
	"": "", "jpeg": "jpeg", "jpg": "jpeg", "png": "png", "gif": "gif",
}

// MaxPresetNameLength bounds a preset name (it becomes a key segment).
const MaxPresetNameLength = 64

// Normalize fills the defaults: Name from Geometry, Quality 85, Gravity
// "center", Background "#ffffff", and lower-cases Format, Gravity and
// Background ("jpg" becomes "jpeg").
func (p Preset) Normalize() Preset {
	p.Geometry = strings.TrimSpace(p.Geometry)
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		p.Name = p.Geometry
	}
	p.Format = strings.ToLower(strings.TrimSpace(p.Format))
	if f, ok := formatAliases[p.Format]; ok {
		p.Format = f
	}
	if p.Quality == 0 {
		p.Quality = DefaultQuality
	}
	p.Gravity = strings.ToLower(strings.TrimSpace(p.Gravity))
	if p.Gravity == "" {
		p.Gravity = "center"
	}
	p.Background = strings.ToLower(strings.TrimSpace(p.Background))
	if p.Background == "" {
		p.Background = "#ffffff"
	}
	p.Formats = normalizeFormats(p.Formats)
	return p
}

// Validate checks every field (after applying the defaults of Normalize) and
// reports all problems in one *Error of KindInvalidPreset.
func (p Preset) Validate() error {
	n := p.Normalize()
	var problems []string
	if _, err := ParseGeometry(n.Geometry); err != nil {
		var e *Error
		if errors.As(err, &e) {
			problems = append(problems, e.Msg)
		} else {
			problems = append(problems, err.Error())
		}
	}
	if err := validName(n.Name); err != nil {
		problems = append(problems, err.Error())
	}
	if _, ok := formatAliases[n.Format]; !ok {
		problems = append(problems, fmt.Sprintf("format %q: want jpeg, png or gif (or empty for the input's format)", p.Format))
	}
	if n.Quality < 1 || n.Quality > 100 {
		problems = append(problems, fmt.Sprintf("quality %d: want 1..100", p.Quality))
	}
	if !gravities[n.Gravity] {
		problems = append(problems, fmt.Sprintf("gravity %q: want center, north, south, east, west, northeast, northwest, southeast or southwest", p.Gravity))
	}
	if _, err := parseColor(n.Background); err != nil {
		problems = append(problems, fmt.Sprintf("background %q: want #rrggbb", p.Background))
	}
	problems = append(problems, validateFormats(n)...)
	if p.KeepMetadata {
		problems = append(problems, "keep_metadata: keeping metadata is not supported (EXIF/GPS are always stripped)")
	}
	if len(problems) == 0 {
		return nil
	}
	name := n.Name
	if name == "" {
		name = "(unnamed)"
	}
	return newErr(KindInvalidPreset, nil, "preset %q: %s", name, strings.Join(problems, "; "))
}

func validName(s string) error {
	switch {
	case s == "":
		return errors.New("empty name")
	case len(s) > MaxPresetNameLength:
		return fmt.Errorf("name longer than %d bytes", MaxPresetNameLength)
	case !utf8.ValidString(s):
		return errors.New("name is not valid UTF-8")
	case s == "." || s == "..":
		return fmt.Errorf("name %q is not allowed", s)
	case strings.ContainsAny(s, "/\\"):
		return fmt.Errorf("name %q contains a slash", s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("name %q contains a control character", s)
		}
	}
	return nil
}

// parseColor parses "#rrggbb" (or "#rgb").
func parseColor(s string) ([3]uint8, error) {
	var c [3]uint8
	s = strings.TrimPrefix(s, "#")
	hex := func(b byte) (uint8, bool) {
		switch {
		case b >= '0' && b <= '9':
			return b - '0', true
		case b >= 'a' && b <= 'f':
			return b - 'a' + 10, true
		case b >= 'A' && b <= 'F':
			return b - 'A' + 10, true
		}
		return 0, false
	}
	switch len(s) {
	case 3, 6:
	default:
		return c, errors.New("want #rrggbb")
	}
	for i := range 3 {
		var hi, lo uint8
		var ok1, ok2 bool
		if len(s) == 3 {
			hi, ok1 = hex(s[i])
			lo, ok2 = hi, ok1
		} else {
			hi, ok1 = hex(s[2*i])
			lo, ok2 = hex(s[2*i+1])
		}
		if !ok1 || !ok2 {
			return c, errors.New("want #rrggbb")
		}
		c[i] = hi<<4 | lo
	}
	return c, nil
}

// DefaultPresets returns the three classic presets: 50x50, 150x and x150.
func DefaultPresets() []Preset {
	out := make([]Preset, 0, 3)
	for _, g := range []string{"50x50", "150x", "x150"} {
		out = append(out, Preset{Geometry: g}.Normalize())
	}
	return out
}

// MaxPresets bounds how many presets one configuration may hold.
const MaxPresets = 64

// ParseConfig reads a preset configuration: the classic
// {"sizes": ["50x50","150x","x150"]} and/or {"presets": [Preset…]} (both may
// appear; sizes come first). A top-level "formats": ["avif","webp"] gives
// every preset without its own "formats" those siblings. Other keys are ignored (the file may hold other
// settings). It returns normalized, validated presets; duplicate names are
// refused. Errors are *Error of KindInvalidPreset.
func ParseConfig(b []byte) ([]Preset, error) {
	var cfg struct {
		Sizes   []string        `json:"sizes"`
		Formats []string        `json:"formats"`
		Presets json.RawMessage `json:"presets"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, newErr(KindInvalidPreset, err, "config: not a JSON object with \"sizes\" or \"presets\"")
	}
	var presets []Preset
	for _, s := range cfg.Sizes {
		presets = append(presets, Preset{Geometry: s})
	}
	if len(cfg.Presets) > 0 && !bytes.Equal(bytes.TrimSpace(cfg.Presets), []byte("null")) {
		dec := json.NewDecoder(bytes.NewReader(cfg.Presets))
		dec.DisallowUnknownFields()
		var ps []Preset
		if err := dec.Decode(&ps); err != nil {
			return nil, newErr(KindInvalidPreset, err, "config: \"presets\" must be a list of presets: %v", err)
		}
		presets = append(presets, ps...)
	}
	// A top-level "formats" applies to every preset that sets none.
	for i := range presets {
		if presets[i].Formats == nil {
			presets[i].Formats = cfg.Formats
		}
	}
	if len(presets) == 0 {
		return nil, newErr(KindInvalidPreset, nil, "config: no \"sizes\" or \"presets\"")
	}
	return ValidatePresets(presets)
}

// ValidatePresets validates and normalizes a list of presets and refuses
// duplicate names.
func ValidatePresets(presets []Preset) ([]Preset, error) {
	if len(presets) > MaxPresets {
		return nil, newErr(KindInvalidPreset, nil, "config: %d presets, the limit is %d", len(presets), MaxPresets)
	}
	var problems []string
	seen := map[string]bool{}
	out := make([]Preset, 0, len(presets))
	for _, p := range presets {
		if err := p.Validate(); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		n := p.Normalize()
		if seen[n.Name] {
			problems = append(problems, fmt.Sprintf("preset %q: duplicate name", n.Name))
			continue
		}
		seen[n.Name] = true
		out = append(out, n)
	}
	if len(problems) > 0 {
		return nil, newErr(KindInvalidPreset, nil, "%s", strings.Join(problems, "; "))
	}
	return out, nil
}
