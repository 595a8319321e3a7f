//go:build ignore

// Command gen writes the crafted hostile files of package hostile into a
// directory: go run gen.go testdata (see go:generate in hostile.go).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/imgate/imgate/internal/hostile"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, f := range hostile.Files() {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data(), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
