package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Size limits of the module's production code: a file a newcomer can read
// in one sitting, a function that fits on a screen.
const (
	maxFileLines = 500
	maxFuncLines = 80
)

// longFuncs are the functions allowed over maxFuncLines: codec hot loops,
// where splitting costs speed or hides the format's structure. Each is named
// in ARCHITECTURE.md with its reason (the test checks that too). A path
// ending in "/" covers every function of the files under it.
var longFuncs = []string{
	"resizer/jpegscale/",                    // the JPEG decoder's marker, entropy and IDCT loops
	"resizer/pngstream.go:decodePNGReduced", // PNG streaming: one pass over the filtered rows
	"resizer/reduce.go:rowReaderFor",        // the box reducer's row readers, one per pixel layout
}

func TestSizeLimits(t *testing.T) {
	root := moduleRoot(t)
	arch, err := os.ReadFile(filepath.Join(root, "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range longFuncs {
		name := ex
		if i := strings.LastIndex(ex, ":"); i >= 0 {
			name = ex[i+1:]
		}
		if !strings.Contains(string(arch), strings.TrimSuffix(name, "/")) {
			t.Errorf("exception %s is not named in ARCHITECTURE.md", ex)
		}
	}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if n := d.Name(); n == "testdata" || n == "node_modules" || (strings.HasPrefix(n, ".") && rel != ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if n := strings.Count(string(src), "\n"); n > maxFileLines {
			t.Errorf("%s: %d lines, the limit is %d: split it by concept", rel, n, maxFileLines)
		}
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1
			if n > maxFuncLines && !allowedLong(rel, fn.Name.Name) {
				t.Errorf("%s: func %s is %d lines, the limit is %d", rel, fn.Name.Name, n, maxFuncLines)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func allowedLong(file, fn string) bool {
	for _, ex := range longFuncs {
		if strings.HasSuffix(ex, "/") && strings.HasPrefix(file, ex) || ex == file+":"+fn {
			return true
		}
	}
	return false
}
