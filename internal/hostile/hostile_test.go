package hostile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestTestdataIsGenerated: the committed files are exactly what the
// generator writes (run `go generate ./internal/hostile` after a change).
func TestTestdataIsGenerated(t *testing.T) {
	for _, f := range Files() {
		got, err := os.ReadFile(filepath.Join("testdata", f.Name))
		if err != nil {
			t.Fatalf("%s: %v (run go generate ./internal/hostile)", f.Name, err)
		}
		if !bytes.Equal(got, f.Data()) {
			t.Errorf("testdata/%s differs from the generator (run go generate ./internal/hostile)", f.Name)
		}
	}
}
