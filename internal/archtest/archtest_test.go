package archtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, pkg string
		want         bool
	}{
		{"gateway", "gateway", true},
		{"gateway", "gateway/s3api", false},
		{"gateway/...", "gateway", true},
		{"gateway/...", "gateway/s3api", true},
		{"gateway/...", "gateway/storage/fs", true},
		{"gateway/...", "gatewayx", false},
		{"gateway/s3api/...", "gateway/s3", false},
		{"...", "anything/at/all", true},
		{"admin/components/...", "admin/common", false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.pkg); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.pkg, got, tt.want)
		}
	}
}

// synthetic is a small module graph; each test adds the import it needs.
func synthetic() Graph {
	return Graph{
		"resizer":              {"resizer/jpegscale"},
		"resizer/jpegscale":    nil,
		"gateway":              {"gateway/s3api"},
		"gateway/s3api":        {"gateway/storage", "resizer"},
		"gateway/storage":      nil,
		"gateway/storage/fs":   {"gateway/storage"},
		"admin/common":         nil,
		"admin/components/a":   {"admin/common"},
		"admin/components/b":   {"admin/common"},
		"admin/components/b/x": nil,
	}
}

var testRules = []Rule{
	{From: "resizer/...", Forbid: []string{"gateway", "gateway/s3api/..."}, Why: "resizer is a library"},
	{From: "gateway/storage/...", Only: []string{"gateway/storage/..."}, Why: "storage is below HTTP"},
	{From: "admin/components/...", Siblings: true, Why: "screens are independent"},
}

func chains(vs []Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, strings.Join(v.Chain, " → "))
	}
	return out
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		add  map[string]string // extra import: from → to
		want []string          // chains of the violations
	}{
		{"clean graph", nil, nil},
		{"resizer imports the HTTP surface", map[string]string{"resizer": "gateway/s3api"},
			[]string{"resizer → gateway/s3api"}},
		{"through another package", map[string]string{"resizer/jpegscale": "gateway"},
			[]string{"resizer → resizer/jpegscale → gateway", "resizer → resizer/jpegscale → gateway → gateway/s3api", "resizer/jpegscale → gateway", "resizer/jpegscale → gateway → gateway/s3api"}},
		{"storage backend imports the server", map[string]string{"gateway/storage/fs": "gateway"},
			[]string{"gateway/storage/fs → gateway", "gateway/storage/fs → gateway → gateway/s3api", "gateway/storage/fs → gateway → gateway/s3api → resizer", "gateway/storage/fs → gateway → gateway/s3api → resizer → resizer/jpegscale"}},
		{"component imports a component", map[string]string{"admin/components/a": "admin/components/b"},
			[]string{"admin/components/a → admin/components/b"}},
		{"component imports a sub-package of another", map[string]string{"admin/components/a": "admin/components/b/x"},
			[]string{"admin/components/a → admin/components/b/x"}},
		{"component imports shared code", map[string]string{"admin/components/a": "admin/common"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := synthetic()
			for from, to := range tt.add {
				g[from] = append(g[from], to)
			}
			got := chains(Check(g, testRules))
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestLoadFindsViolationOnDisk writes a tiny module whose resizer imports
// its s3api and checks that Load + Check report it, and that the same
// module without that import is clean.
func TestLoadFindsViolationOnDisk(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, text string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.26\n")
	write("gateway/s3api/s3api.go", "package s3api\n\nimport _ \"net/http\"\n")
	write("resizer/resizer.go", "package resizer\n\nimport _ \"example.com/m/gateway/s3api\"\n")
	// Test files and testdata do not count.
	write("gateway/storage/storage.go", "package storage\n")
	write("gateway/storage/storage_test.go", "package storage\n\nimport _ \"example.com/m/gateway/s3api\"\n")
	write("gateway/storage/testdata/x.go", "package x\n\nimport _ \"example.com/m/gateway/s3api\"\n")

	g, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g["gateway/storage/testdata"]; ok {
		t.Error("testdata loaded")
	}
	got := chains(Check(g, testRules))
	if want := "resizer → gateway/s3api"; strings.Join(got, "\n") != want {
		t.Fatalf("violations %q, want %q", got, want)
	}

	write("resizer/resizer.go", "package resizer\n")
	g, err = Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if vs := Check(g, testRules); len(vs) != 0 {
		t.Fatalf("clean module reported %v", vs)
	}
}
