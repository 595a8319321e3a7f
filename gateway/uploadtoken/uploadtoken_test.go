package uploadtoken

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestSignParse(t *testing.T) {
	s, err := NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	c := Claims{Prefix: "users/42/", MaxBytes: 5 << 20, ContentTypes: []string{"image/jpeg"}, Expires: now.Add(time.Hour).Unix()}
	tok, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(tok, "/+=?#% ") {
		t.Fatalf("token %q is not path-safe", tok)
	}
	got, err := s.Parse(tok, now)
	if err != nil || got.Prefix != c.Prefix || got.MaxBytes != c.MaxBytes || got.ContentTypes[0] != "image/jpeg" {
		t.Fatalf("Parse: %+v %v", got, err)
	}
	other, _ := NewSigner([]byte("another secret of at least 32 bytes!"))
	payload := strings.Split(tok, ".")[1]
	forged := strings.Replace(tok, payload, strings.TrimSuffix(payload, payload[len(payload)-1:])+flip(payload[len(payload)-1]), 1)
	for name, tc := range map[string]struct {
		s    *Signer
		tok  string
		now  time.Time
		want error
	}{
		"expired":        {s, tok, now.Add(time.Hour), ErrExpired},
		"other secret":   {other, tok, now, ErrInvalid},
		"claims changed": {s, forged, now, ErrInvalid},
		"empty":          {s, "", now, ErrInvalid},
		"wrong version":  {s, "iut0" + strings.TrimPrefix(tok, version), now, ErrInvalid},
		"extra part":     {s, tok + ".x", now, ErrInvalid},
		"too long":       {s, tok + strings.Repeat("A", MaxLen), now, ErrInvalid},
	} {
		if _, err := tc.s.Parse(tc.tok, tc.now); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", name, err, tc.want)
		}
	}
	if _, err := NewSigner([]byte("short")); err == nil {
		t.Fatal("short secret accepted")
	}
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

func TestClaims(t *testing.T) {
	c := Claims{Prefix: "u/1/", MaxBytes: 10, ContentTypes: []string{"image/jpeg", "image/png"}}
	for _, tc := range []struct {
		ct   string
		want bool
	}{{"image/jpeg", true}, {"IMAGE/PNG; x=y", true}, {"image/gif", false}, {"", false}} {
		if c.AllowsType(tc.ct) != tc.want {
			t.Errorf("AllowsType(%q) = %v", tc.ct, !tc.want)
		}
	}
	if !c.AllowsSize(10) || c.AllowsSize(11) || !(Claims{}).AllowsSize(1<<40) || !(Claims{}).AllowsType("x/y") {
		t.Error("size/type defaults")
	}
	if !c.Covers("u/1/a.jpg") || c.Covers("u/10/a.jpg") {
		t.Error("Covers")
	}
}

func FuzzParse(f *testing.F) {
	s, _ := NewSigner(secret)
	tok, _ := s.Sign(Claims{Prefix: "p/", Expires: 2_000_000_000})
	f.Add(tok)
	f.Add("iut1..")
	f.Add("iut1.e30.AAAA")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := s.Parse(in, time.Unix(1_800_000_000, 0))
		if err != nil {
			return
		}
		// Whatever parses must have been signed with the key: re-signing gives an equal token.
		again, err := s.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		if c2, err := s.Parse(again, time.Unix(1_800_000_000, 0)); err != nil || c2.Prefix != c.Prefix {
			t.Fatalf("re-signed token does not parse: %v", err)
		}
	})
}
