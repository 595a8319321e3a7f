// Package strictjson decodes JSON documents from untrusted clients (session
// policies, POST policies) so that each means exactly one thing: unknown
// fields, trailing data, deep nesting and repeated keys are errors.
//
// encoding/json matches object keys to struct fields case-insensitively and
// keeps the last of repeated keys, so {"Effect":"Deny","effect":"Allow"}
// decodes as Allow while another parser may read Deny. Keys that differ only
// in case (by Unicode simple folding, as encoding/json compares them) count
// as repeats here.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of objects and arrays accepted.
const MaxDepth = 32

// Unmarshal decodes the single JSON value in b into v, refusing unknown
// fields, repeated keys (in any case) and data after the value.
func Unmarshal(b []byte, v any) error {
	if err := CheckKeys(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("malformed JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON document")
	}
	return nil
}

type frame struct {
	keys    map[string]bool // folded keys seen; nil for arrays
	wantKey bool
}

// CheckKeys walks the JSON in b and refuses an object that repeats a key,
// compared case-insensitively, or nesting deeper than MaxDepth.
func CheckKeys(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var stack []*frame
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].keys != nil {
			stack[n-1].wantKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("malformed JSON: %w", err)
		}
		if n := len(stack); n > 0 && stack[n-1].wantKey {
			top := stack[n-1]
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:n-1]
				valueDone()
				continue
			}
			k, _ := tok.(string)
			f := fold(k)
			if top.keys[f] {
				return fmt.Errorf("duplicate key %s (keys are compared without regard to case)", quote(k))
			}
			top.keys[f], top.wantKey = true, false
			continue
		}
		d, ok := tok.(json.Delim)
		switch {
		case !ok:
			valueDone()
		case d == '{' || d == '[':
			if len(stack) >= MaxDepth {
				return errors.New("JSON nested too deeply")
			}
			f := &frame{}
			if d == '{' {
				f.keys, f.wantKey = map[string]bool{}, true
			}
			stack = append(stack, f)
		default: // ']' ('}' ends an object while a key is wanted, above)
			stack = stack[:len(stack)-1]
			valueDone()
		}
	}
}

// fold maps each rune to the smallest rune of its simple case-folding
// orbit, so two keys fold alike exactly when strings.EqualFold holds.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		b.WriteRune(min)
	}
	return b.String()
}

// quote shows a client's key in an error: quoted, escaped, at most 64 bytes.
func quote(s string) string {
	if len(s) > 64 {
		cut := 64
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}
