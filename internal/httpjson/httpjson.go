// Package httpjson writes JSON responses the way every imgate HTTP API does.
package httpjson

import (
	"encoding/json"
	"net/http"
)

// Write answers status with v as JSON; API answers are never cached.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
