package secrets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveGeneratesOnceAndReuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", FileName)
	first, gen, err := Resolve(path, Secrets{})
	if err != nil {
		t.Fatal(err)
	}
	if len(gen) != 7 {
		t.Fatalf("generated %v, want all 7 fields", gen)
	}
	if first.AccessKey == "" || first.SecretKey == "" || first.AdminToken == "" || first.TokenSecret == "" ||
		!strings.HasPrefix(first.WebhookSecret, "whsec_") {
		t.Fatalf("empty generated secret: %+v", first)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("secrets file mode %v, want 0600", st.Mode().Perm())
	}
	second, gen2, err := Resolve(path, Secrets{})
	if err != nil {
		t.Fatal(err)
	}
	if len(gen2) != 0 || second != first {
		t.Fatalf("second start generated %v or changed secrets", gen2)
	}
}

func TestResolveGivenValuesWinAndAreNotPersisted(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	got, gen, err := Resolve(path, Secrets{AccessKey: "AKGIVEN", SecretKey: "given-secret"})
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessKey != "AKGIVEN" || got.SecretKey != "given-secret" {
		t.Fatalf("given values not used: %+v", got)
	}
	for _, g := range gen {
		if g == "access_key" || g == "secret_key" {
			t.Fatalf("given value reported as generated: %v", gen)
		}
	}
	stored, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if stored.SecretKey != "" || stored.AccessKey != "" {
		t.Fatalf("operator-given secret written to disk: %+v", stored)
	}
}

func TestRandomStringAlphabet(t *testing.T) {
	s := randomString(1000, "ab")
	for _, c := range s {
		if c != 'a' && c != 'b' {
			t.Fatalf("unexpected character %q", c)
		}
	}
}
