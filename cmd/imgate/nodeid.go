package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// nodeIDProblems reports an unusable --node-id.
func (f *serveConfig) nodeIDProblems() []string {
	if f.nodeID == "" || validNodeID(f.nodeID) {
		return nil
	}
	return []string{fmt.Sprintf("--node-id %q: 1–64 characters of a-z, A-Z, 0-9, '.', '_', '-'", f.nodeID)}
}

// validNodeID reports whether id is a usable --node-id.
func validNodeID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// nodeIdentity is --node-id, or one derived from what stays the same when
// the same service restarts on the same machine: the host name, the data
// directory and the listen address (two processes cannot listen on one
// address, so two live processes never share a derived identity).
func (f *serveConfig) nodeIdentity() string {
	if f.nodeID != "" {
		return f.nodeID
	}
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, host)
	if len(host) > 40 {
		host = host[:40]
	}
	data, err := filepath.Abs(f.data)
	if err != nil {
		data = f.data
	}
	sum := sha256.Sum256([]byte(data + "\x00" + f.listen))
	return strings.Trim(host+"-"+hex.EncodeToString(sum[:6]), "-")
}
