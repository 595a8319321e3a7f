package colour

import (
	"os"
	"testing"
)

const profiles = "/usr/share/color/icc/colord/"

func load(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(profiles + name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("colord-data profile missing: %v", err)
		}
		t.Skipf("colord-data profile missing: %v", err)
	}
	return b
}

func TestSRGBIsIdentity(t *testing.T) {
	tr, err := FromICC(load(t, "sRGB.icc"))
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Identity() {
		t.Errorf("sRGB.icc is not the identity: 128,64,32 → %v", tr.Apply8(128, 64, 32))
	}
	n, err := FromNCLX(1, 13)
	if err != nil || !n.Identity() {
		t.Errorf("nclx 1/13: %v %v", err, n.Apply8(128, 64, 32))
	}
}

// TestKnownColours: what ImageMagick (LittleCMS) gives for the same
// conversions (convert xc:rgb(…) -profile P -profile sRGB.icc), within two
// levels.
func TestKnownColours(t *testing.T) {
	for _, tc := range []struct {
		profile string
		in, out [3]uint8
	}{
		{"AdobeRGB1998.icc", [3]uint8{128, 128, 128}, [3]uint8{129, 129, 129}},
		{"AdobeRGB1998.icc", [3]uint8{0, 255, 0}, [3]uint8{0, 255, 0}}, // clipped
		{"AdobeRGB1998.icc", [3]uint8{100, 150, 200}, [3]uint8{65, 151, 203}},
		{"AdobeRGB1998.icc", [3]uint8{100, 80, 60}, [3]uint8{107, 78, 56}},
		{"ProPhotoRGB.icc", [3]uint8{128, 128, 128}, [3]uint8{146, 146, 146}},
		{"ProPhotoRGB.icc", [3]uint8{100, 150, 200}, [3]uint8{0, 175, 216}},
		{"ProPhotoRGB.icc", [3]uint8{100, 80, 60}, [3]uint8{140, 93, 72}},
	} {
		tr, err := FromICC(load(t, tc.profile))
		if err != nil {
			t.Fatal(err)
		}
		got := tr.Apply8(tc.in[0], tc.in[1], tc.in[2])
		for c := range 3 {
			if d := int(got[c]) - int(tc.out[c]); d > 2 || d < -2 {
				t.Errorf("%s %v: %v, want %v", tc.profile, tc.in, got, tc.out)
				break
			}
		}
	}
}

func TestUnsupportedProfiles(t *testing.T) {
	for _, p := range [][]byte{nil, []byte("short"), make([]byte, 200)} {
		if _, err := FromICC(p); err == nil {
			t.Errorf("%q accepted", p)
		}
	}
	g, err := os.ReadFile("/usr/share/color/icc/Gray.icc")
	if err == nil {
		if _, err := FromICC(g); err == nil {
			t.Error("a grey profile was taken for RGB")
		}
	}
	if _, err := FromNCLX(9, 16); err == nil {
		t.Error("PQ accepted")
	}
}

func TestNCLXP3(t *testing.T) {
	tr, err := FromNCLX(12, 13)
	if err != nil {
		t.Fatal(err)
	}
	// Display P3 white and grey stay; P3 red is more saturated than sRGB's.
	if got := tr.Apply8(255, 255, 255); got != [3]uint8{255, 255, 255} {
		t.Errorf("white: %v", got)
	}
	if got := tr.Apply8(200, 100, 100); got[0] <= 200 || got[1] >= 100 {
		t.Errorf("P3 200,100,100: %v, want more saturated", got)
	}
}

func FuzzFromICC(f *testing.F) {
	if b, err := os.ReadFile(profiles + "AdobeRGB1998.icc"); err == nil {
		f.Add(b)
	}
	f.Add(make([]byte, 132))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := FromICC(b)
		if err == nil {
			tr.Apply8(1, 2, 3)
		}
	})
}
