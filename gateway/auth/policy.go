package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/imgate/imgate/internal/strictjson"
)

// MaxSessionPolicySize is the largest session policy accepted, in bytes (AWS's limit).
const MaxSessionPolicySize = 2048

// ErrInvalidPolicy is wrapped by ParseSessionPolicy's errors.
var ErrInvalidPolicy = errors.New("invalid session policy")

// SessionPolicy is the subset of an AWS IAM policy imgate understands:
// Version, Id and Statement[{Sid, Effect Allow|Deny, Action, Resource}].
// Anything else (Principal, Condition, NotAction, NotResource) is refused
// rather than ignored, so a policy never grants more than it says.
type SessionPolicy struct {
	Version    string
	Statements []Statement

	also *SessionPolicy // a parent's policy that must allow too
	raw  string         // the document as parsed, carried in session tokens
}

// Statement is one policy statement.
type Statement struct {
	Sid       string
	Effect    string   // "Allow" or "Deny"
	Actions   []string // e.g. "s3:PutObject", "s3:*", "*"
	Resources []string // "arn:aws:s3:::bucket/prefix*" or "*"
}

const arnPrefix = "arn:aws:s3:::"

// ParseSessionPolicy parses an AWS IAM-style session policy (strict JSON:
// unknown or duplicate fields are errors).
func ParseSessionPolicy(b []byte) (*SessionPolicy, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidPolicy}, args...)...)
	}
	if len(b) > MaxSessionPolicySize {
		return nil, bad("longer than %d bytes", MaxSessionPolicySize)
	}
	var doc struct {
		Version   string          `json:"Version"`
		ID        string          `json:"Id"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := strictjson.Unmarshal(b, &doc); err != nil {
		return nil, bad("%v", err)
	}
	switch doc.Version {
	case "", "2012-10-17", "2008-10-17":
	default:
		return nil, bad("unknown Version %q", doc.Version)
	}
	raws, err := oneOrMany(doc.Statement)
	if err != nil || len(raws) == 0 {
		return nil, bad("Statement must be an object or a non-empty array of objects")
	}
	if len(raws) > 64 {
		return nil, bad("too many statements")
	}
	p := &SessionPolicy{Version: doc.Version, raw: string(b)}
	for i, raw := range raws {
		var st struct {
			Sid      string          `json:"Sid"`
			Effect   string          `json:"Effect"`
			Action   json.RawMessage `json:"Action"`
			Resource json.RawMessage `json:"Resource"`
		}
		if err := strictjson.Unmarshal(raw, &st); err != nil {
			return nil, bad("statement %d: %v (only Sid, Effect, Action and Resource are supported)", i, err)
		}
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return nil, bad("statement %d: Effect must be Allow or Deny", i)
		}
		actions, err := stringOrList(st.Action)
		if err != nil || len(actions) == 0 {
			return nil, bad("statement %d: Action must be a string or a non-empty list of strings", i)
		}
		for _, a := range actions {
			if a != "*" && !strings.HasPrefix(strings.ToLower(a), "s3:") && !strings.HasPrefix(strings.ToLower(a), "sts:") {
				return nil, bad("statement %d: action %q is not an s3: action", i, a)
			}
		}
		resources, err := stringOrList(st.Resource)
		if err != nil || len(resources) == 0 {
			return nil, bad("statement %d: Resource must be a string or a non-empty list of strings", i)
		}
		for _, r := range resources {
			if r != "*" && !strings.HasPrefix(r, arnPrefix) {
				return nil, bad("statement %d: resource %q is not \"*\" or an %s ARN", i, r, arnPrefix)
			}
		}
		p.Statements = append(p.Statements, Statement{Sid: st.Sid, Effect: st.Effect, Actions: actions, Resources: resources})
	}
	return p, nil
}

// Allows evaluates the policy (and any parent policy it is chained to) for
// an action on the given resource ARNs: an explicit Deny matching any
// resource wins, otherwise an Allow matching any resource is needed.
func (p *SessionPolicy) Allows(action string, resources ...string) bool {
	if p == nil {
		return true
	}
	allowed := false
	for _, st := range p.Statements {
		if !matchAny(st.Actions, action, true) {
			continue
		}
		for _, r := range resources {
			if !matchAny(st.Resources, r, false) {
				continue
			}
			if st.Effect == "Deny" {
				return false
			}
			allowed = true
		}
	}
	return allowed && p.also.Allows(action, resources...)
}

func matchAny(patterns []string, s string, fold bool) bool {
	for _, pat := range patterns {
		if fold {
			if wildcardMatch(strings.ToLower(pat), strings.ToLower(s)) {
				return true
			}
		} else if wildcardMatch(pat, s) {
			return true
		}
	}
	return false
}

// wildcardMatch matches s against pat where '*' is any run and '?' any one
// byte, in O(len(pat)*len(s)) at worst (no exponential backtracking).
func wildcardMatch(pat, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pat) && (pat[p] == '?' || pat[p] == s[i]):
			p++
			i++
		case p < len(pat) && pat[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pat) && pat[p] == '*' {
		p++
	}
	return p == len(pat)
}

func oneOrMany(raw json.RawMessage) ([]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errors.New("missing")
	}
	switch raw[0] {
	case '{':
		return []json.RawMessage{raw}, nil
	case '[':
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, err
		}
		for _, r := range list {
			if r := bytes.TrimSpace(r); len(r) == 0 || r[0] != '{' {
				return nil, errors.New("not an object")
			}
		}
		return list, nil
	}
	return nil, errors.New("not an object or array")
}

func stringOrList(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errors.New("missing")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return nil, errors.New("empty string")
		}
		return []string{s}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	for _, x := range list {
		if x == "" {
			return nil, errors.New("empty string")
		}
	}
	return list, nil
}
