package main

import "testing"

func TestValidNodeID(t *testing.T) {
	cases := []struct {
		id string
		ok bool
	}{
		{"node-a", true}, {"web_1.eu", true}, {"A9", true},
		{"", false}, {"has space", false}, {"a/b", false}, {"a:b", false}, {"é", false},
		{string(make([]byte, 65)), false},
		{"0123456789012345678901234567890123456789012345678901234567890123", true},
		{"01234567890123456789012345678901234567890123456789012345678901234", false},
	}
	for _, c := range cases {
		if got := validNodeID(c.id); got != c.ok {
			t.Errorf("validNodeID(%q) = %v, want %v", c.id, got, c.ok)
		}
	}
}

// TestNodeIdentity: the derived identity is valid, the same for the same
// data directory and listen address (a restart), and differs when either differs.
func TestNodeIdentity(t *testing.T) {
	a := (&serveConfig{data: "/srv/imgate", listen: "127.0.0.1:8080"}).nodeIdentity()
	if !validNodeID(a) {
		t.Fatalf("derived identity %q is not a valid --node-id", a)
	}
	if again := (&serveConfig{data: "/srv/imgate", listen: "127.0.0.1:8080"}).nodeIdentity(); again != a {
		t.Errorf("restart: %q, then %q", a, again)
	}
	for _, other := range []*serveConfig{{data: "/srv/imgate", listen: "127.0.0.1:8081"}, {data: "/srv/other", listen: "127.0.0.1:8080"}} {
		if id := other.nodeIdentity(); id == a {
			t.Errorf("%+v shares identity %q", other, id)
		}
	}
	if id := (&serveConfig{nodeID: "web-1", data: "/x", listen: ":1"}).nodeIdentity(); id != "web-1" {
		t.Errorf("--node-id web-1 → %q", id)
	}
	if p := (&serveConfig{nodeID: "a b"}).nodeIDProblems(); len(p) != 1 {
		t.Errorf("invalid --node-id not reported: %v", p)
	}
}
