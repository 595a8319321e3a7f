package jobdb

import "testing"

func TestPlaceholderRewrite(t *testing.T) {
	cases := []struct{ in, pg string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b = ?", "a = $1 AND b = $2"},
		{"INSERT INTO t VALUES (?, ?, ?)", "INSERT INTO t VALUES ($1, $2, $3)"},
	}
	for _, c := range cases {
		if got := (&DB{Dialect: Postgres}).Q(c.in); got != c.pg {
			t.Errorf("postgres %q → %q, want %q", c.in, got, c.pg)
		}
		if got := (&DB{Dialect: SQLite}).Q(c.in); got != c.in {
			t.Errorf("sqlite %q changed to %q", c.in, got)
		}
	}
}
