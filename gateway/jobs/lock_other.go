//go:build !unix

package jobs

import (
	"fmt"
	"os"
)

// lockFile opens path; without flock the one-process rule is not enforced.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	return f, nil
}
