// Package archtest checks the module's import rules: which packages may
// not depend on which. Load reads the production imports of every package
// of a module (go/build, no toolchain needed, test files left out); Check
// applies a table of Rules to that graph, following imports transitively,
// and says which chain breaks which rule.
package archtest

import (
	"errors"
	"fmt"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Rule forbids packages matching From to depend, directly or through other
// packages of the module, on a package matching one of Forbid, or, when
// Only is set, on any package not matching one of Only.
//
// Patterns are module-relative import paths: "gateway" is that package
// only, "gateway/s3api/..." is it and every package below it, "..." is every
// package. A package never breaks a rule by being itself; with Siblings set,
// it does break it by importing any other package matching From (so
// "admin/components/..." with Siblings keeps the components independent).
type Rule struct {
	From     string
	Forbid   []string
	Only     []string
	Siblings bool
	Why      string
}

// forbids reports whether r forbids a package matching r.From to depend on
// dep (another package).
func (r Rule) forbids(dep string) bool {
	switch {
	case matchAny(r.Forbid, dep):
		return true
	case len(r.Only) > 0 && !matchAny(r.Only, dep):
		return true
	}
	return r.Siblings && Match(r.From, dep)
}

// Graph maps each package (module-relative path; "." is the module root)
// to the module packages it imports.
type Graph map[string][]string

// Violation is one broken rule: Chain runs from the package that breaks it
// to the forbidden package.
type Violation struct {
	Rule  Rule
	Chain []string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s (%s)", strings.Join(v.Chain, " → "), v.Rule.Why)
}

// Match reports whether the module-relative path pkg matches pattern.
func Match(pattern, pkg string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}

func matchAny(patterns []string, pkg string) bool {
	for _, p := range patterns {
		if Match(p, pkg) {
			return true
		}
	}
	return false
}

// Check returns every violation of rules in g, one per (package, forbidden
// package) pair, with the shortest import chain, sorted.
func Check(g Graph, rules []Rule) []Violation {
	var out []Violation
	for _, r := range rules {
		for _, pkg := range sortedKeys(g) {
			if !Match(r.From, pkg) {
				continue
			}
			for _, chain := range reach(g, pkg) {
				dep := chain[len(chain)-1]
				if dep != pkg && r.forbids(dep) {
					out = append(out, Violation{Rule: r, Chain: chain})
				}
			}
		}
	}
	return out
}

// reach returns, for every package pkg depends on, the shortest import
// chain from pkg to it (breadth first, in a stable order).
func reach(g Graph, pkg string) [][]string {
	prev := map[string]string{pkg: ""}
	queue := []string{pkg}
	var chains [][]string
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		deps := append([]string(nil), g[p]...)
		sort.Strings(deps)
		for _, d := range deps {
			if _, seen := prev[d]; seen {
				continue
			}
			prev[d] = p
			queue = append(queue, d)
			var chain []string
			for q := d; q != ""; q = prev[q] {
				chain = append([]string{q}, chain...)
			}
			chains = append(chains, chain)
		}
	}
	return chains
}

func sortedKeys(g Graph) []string {
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Load reads the module at dir (the folder holding go.mod): every package's
// imports of other packages of the same module, from its non-test files
// for the current GOOS/GOARCH. Folders named testdata or starting with "."
// or "_" are skipped, as the go command does.
func Load(dir string) (Graph, error) {
	mod, err := modulePath(filepath.Join(dir, "go.mod"))
	if err != nil {
		return nil, err
	}
	g := Graph{}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != dir && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return filepath.SkipDir
		}
		if path != dir {
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // a nested module is not ours
			}
		}
		bp, err := build.Default.ImportDir(path, 0)
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("archtest: %s: %w", path, err)
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		var deps []string
		for _, imp := range bp.Imports {
			if imp == mod {
				deps = append(deps, ".")
			} else if r, ok := strings.CutPrefix(imp, mod+"/"); ok {
				deps = append(deps, r)
			}
		}
		g[filepath.ToSlash(rel)] = deps
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

func modulePath(gomod string) (string, error) {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return "", fmt.Errorf("archtest: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`), nil
		}
	}
	return "", fmt.Errorf("archtest: %s has no module line", gomod)
}
