package archtest

import (
	"os"
	"path/filepath"
	"testing"
)

// rules are the module's import rules. Add a row when a package gets a
// boundary worth keeping; Why is printed with every violation.
var rules = []Rule{
	{
		From: "resizer/...", Only: []string{"resizer/..."},
		Why: "the resizer is a library (io.Reader in, bytes out): no gateway, HTTP or storage package",
	},
	{
		From: "gateway/storage/...", Only: []string{"gateway/storage/..."},
		Why: "storage is below the HTTP layer: no server, s3api, uploads, jobs or admin HTTP package",
	},
	{
		From: "admin/components/...", Siblings: true,
		Why: "dashboard screens talk through admin/actions and the root model, never to each other",
	},
	{
		From: "admin/...",
		Forbid: []string{"gateway", "gateway/s3api/...", "gateway/uploads/...", "gateway/jobs/...",
			"gateway/auth/...", "gateway/sigv4/...", "gateway/storage/...", "cmd/..."},
		Why: "the dashboard reaches the server over HTTP only; it shares the wire types of gateway/adminapi",
	},
	{
		From:   "...",
		Forbid: []string{"admin/client/clienttest", "gateway/storage/storagetest", "internal/testenv", "internal/archtest", "internal/hostile", "e2e/..."},
		Why:    "test support is imported by tests only, never by production code",
	},
	{
		From: "...", Forbid: []string{"cmd/..."},
		Why: "cmd/imgate only wires packages; nothing imports it",
	},
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

func TestModuleImportRules(t *testing.T) {
	g, err := Load(moduleRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	// A rule whose From matches nothing (a typo, a moved package) would
	// pass for ever: every rule must cover at least one package.
	for _, r := range rules {
		n := 0
		for pkg := range g {
			if Match(r.From, pkg) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("rule %q matches no package of the module", r.From)
		}
	}
	for _, pkg := range []string{"resizer", "gateway/storage/fs", "admin/components/jobs", "gateway/s3api", "cmd/imgate"} {
		if _, ok := g[pkg]; !ok {
			t.Errorf("the loaded graph lacks %s", pkg)
		}
	}
	for _, v := range Check(g, rules) {
		t.Errorf("import rule broken: %s", v)
	}
}
