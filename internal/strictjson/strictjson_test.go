package strictjson

import (
	"strings"
	"testing"
)

func TestUnmarshal(t *testing.T) {
	type doc struct {
		Effect string `json:"Effect"`
		List   []any  `json:"List"`
	}
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	for _, tc := range []struct {
		name, in, err string
	}{
		{"plain", `{"Effect":"Allow"}`, ""},
		{"nested objects may reuse keys", `{"List":[{"a":1},{"a":2}],"Effect":"x"}`, ""},
		{"duplicate", `{"Effect":"Allow","Effect":"Deny"}`, `duplicate key "Effect"`},
		{"case variant", `{"Effect":"Deny","effect":"Allow"}`, `duplicate key "effect"`},
		{"upper variant", `{"EFFECT":"Deny","Effect":"Allow"}`, `duplicate key "Effect"`},
		{"kelvin sign folds to k", "{\"List\":[{\"k\":1,\"\u212a\":2}]}", "duplicate key"},
		{"long-s folds to s", "{\"List\":[{\"s\":1,\"\u017f\":2}]}", "duplicate key"},
		{"duplicate inside array", `{"List":[{"a":1,"A":2}]}`, `duplicate key "A"`},
		{"unknown field", `{"Effect":"Allow","Extra":1}`, "unknown field"},
		{"trailing data", `{"Effect":"Allow"} {}`, "data after"},
		{"syntax", `{"Effect":`, "malformed JSON"},
		{"too deep", `{"List":` + deep + `}`, "nested too deeply"},
		{"long key quoted and cut", `{"` + strings.Repeat("é", 50) + `":1,"` + strings.Repeat("É", 50) + `":2}`, "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d doc
			err := Unmarshal([]byte(tc.in), &d)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("Unmarshal(%s) = %v", tc.in, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Unmarshal(%s) = %v, want an error containing %q", tc.in, err, tc.err)
			}
		})
	}
}

// FuzzCheckKeys: whenever strict decoding accepts a document, no object in
// it has two keys encoding/json would take for the same field.
func FuzzCheckKeys(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":{"b":[1,{"c":2}]},"A":3}`, `[]`, `{"k":1,"K":2}`, `"x"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v map[string]any
		if Unmarshal([]byte(s), &v) != nil {
			return
		}
		var seen []string
		for k := range v {
			for _, o := range seen {
				if strings.EqualFold(k, o) {
					t.Fatalf("accepted %q with keys %q and %q", s, k, o)
				}
			}
			seen = append(seen, k)
		}
	})
}
