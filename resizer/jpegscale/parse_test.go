package jpegscale

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// segment returns the offset of the first marker code in data (pointing at
// the 0xFF) or fails.
func segment(t *testing.T, data []byte, code byte) int {
	t.Helper()
	i := bytes.Index(data, []byte{0xFF, code})
	if i < 0 {
		t.Fatalf("marker %02X not found", code)
	}
	return i
}

// TestHeaderErrors is a table of hand-damaged headers and the sentinel
// each must produce.
func TestHeaderErrors(t *testing.T) {
	base, err := os.ReadFile("testdata/s420.jpg")
	if err != nil {
		t.Fatal(err)
	}
	sof := segment(t, base, mSOF0)
	sos := segment(t, base, mSOS)
	dht := segment(t, base, mDHT)
	dqt := segment(t, base, mDQT)
	tests := []struct {
		name   string
		mutate func(b []byte) []byte
		want   error
	}{
		{"empty", func(b []byte) []byte { return nil }, ErrCorrupt},
		{"no SOI", func(b []byte) []byte { return b[2:] }, ErrCorrupt},
		{"only SOI", func(b []byte) []byte { return b[:2] }, ErrCorrupt},
		{"12-bit", func(b []byte) []byte { b[sof+4] = 12; return b }, ErrUnsupported},
		{"zero width", func(b []byte) []byte { b[sof+7], b[sof+8] = 0, 0; return b }, ErrCorrupt},
		{"DNL height", func(b []byte) []byte { b[sof+5], b[sof+6] = 0, 0; return b }, ErrUnsupported},
		{"sampling 0", func(b []byte) []byte { b[sof+11] = 0x02; return b }, ErrCorrupt},
		{"sampling 5", func(b []byte) []byte { b[sof+11] = 0x51; return b }, ErrCorrupt},
		{"bad Tq", func(b []byte) []byte { b[sof+12] = 7; return b }, ErrCorrupt},
		{"duplicate id", func(b []byte) []byte { b[sof+13] = b[sof+10]; return b }, ErrCorrupt},
		{"lossless SOF3", func(b []byte) []byte { b[sof+1] = 0xC3; return b }, ErrUnsupported},
		{"hierarchical SOF5", func(b []byte) []byte { b[sof+1] = 0xC5; return b }, ErrUnsupported},
		{"arithmetic SOF9", func(b []byte) []byte { b[sof+1] = 0xC9; return b }, ErrUnsupported},
		{"bad segment length", func(b []byte) []byte { b[sof+2], b[sof+3] = 0xFF, 0xFF; return b }, ErrCorrupt},
		{"short segment length", func(b []byte) []byte { b[sof+2], b[sof+3] = 0, 1; return b }, ErrCorrupt},
		{"DQT precision 2", func(b []byte) []byte { b[dqt+4] = 0x20; return b }, ErrCorrupt},
		{"DQT index 4", func(b []byte) []byte { b[dqt+4] = 0x04; return b }, ErrCorrupt},
		{"DHT class 2", func(b []byte) []byte { b[dht+4] = 0x20; return b }, ErrCorrupt},
		{"DHT overfull", func(b []byte) []byte { b[dht+5] = 3; return b }, ErrCorrupt},
		{"SOS unknown component", func(b []byte) []byte { b[sos+5] = 99; return b }, ErrCorrupt},
		{"SOS table index 5", func(b []byte) []byte { b[sos+6] = 0x55; return b }, ErrCorrupt},
		{"SOS count 0", func(b []byte) []byte { b[sos+4] = 0; return b }, ErrCorrupt},
		{"SOS before SOF", func(b []byte) []byte {
			return append(append(append([]byte{}, b[:sof]...), b[sos:]...), 0xFF, mEOI)
		}, ErrCorrupt},
		{"no EOI", func(b []byte) []byte { return b[:len(b)-2] }, ErrCorrupt},
		{"entropy cut short", func(b []byte) []byte {
			return append(append([]byte{}, b[:sos+30]...), 0xFF, mEOI)
		}, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.mutate(bytes.Clone(base))
			for _, denom := range []int{1, 8} {
				_, err := DecodeBytes(data, denom, Options{})
				if !errors.Is(err, tt.want) {
					t.Errorf("1/%d: err %v, want %v", denom, err, tt.want)
				}
			}
		})
	}
	if _, err := DecodeBytes(base, 3, Options{}); err == nil {
		t.Error("denominator 3 accepted")
	}
}
