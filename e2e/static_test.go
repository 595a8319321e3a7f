package e2e

import (
	"debug/elf"
	"testing"

	"github.com/imgate/imgate/internal/testenv"
)

// TestBinaryIsStatic: the binary built as documented (CGO_ENABLED=0, -tags
// nodynamic) has no dynamic loader, so it runs on a distroless/static image;
// the WebAssembly decoders must not pull in a dynamic loader.
func TestBinaryIsStatic(t *testing.T) {
	f, err := elf.Open(testenv.ImgateBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("imgate is dynamically linked (PT_INTERP): build with CGO_ENABLED=0 -tags nodynamic")
		}
	}
}
