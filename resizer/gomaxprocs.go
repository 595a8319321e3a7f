package resizer

import (
	"os"
	"runtime"
	"strconv"

	// Imported for its side effect on GOMAXPROCS, which init below undoes.
	_ "github.com/anthonynsimon/bild/parallel"
)

// init runs after bild/parallel's init (imports initialise first) and undoes
// its runtime.GOMAXPROCS(runtime.NumCPU()).
func init() { restoreGOMAXPROCS() }

func restoreGOMAXPROCS() {
	if v, err := strconv.Atoi(os.Getenv("GOMAXPROCS")); err == nil && v > 0 {
		runtime.GOMAXPROCS(v)
		return
	}
	runtime.SetDefaultGOMAXPROCS()
}
