// Command jpegplan prints, for each JPEG given, the DCT scale imgate's
// resizer decodes it at for the given presets, as djpeg's -scale argument
// (bench/resize.sh runs djpeg at the same scale).
//
//	jpegplan -sizes 50x50,150x,x150 FILE…   →   FILE<TAB>1/8
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/imgate/imgate/resizer"
)

func main() {
	sizes := flag.String("sizes", "50x50,150x,x150", "comma-separated geometries")
	flag.Parse()
	var presets []resizer.Preset
	for _, g := range strings.Split(*sizes, ",") {
		presets = append(presets, resizer.Preset{Geometry: g})
	}
	rz := resizer.New(resizer.Options{})
	for _, f := range flag.Args() {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "jpegplan:", err)
			os.Exit(1)
		}
		c, err := rz.Estimate(data, presets)
		if err != nil {
			fmt.Fprintf(os.Stderr, "jpegplan: %s: %v\n", f, err)
			continue
		}
		fmt.Printf("%s\t%d/8\n", f, c.Scale)
	}
}
