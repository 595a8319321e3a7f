package auth

import (
	"context"
	"crypto/rand"
	"slices"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/sigv4"
)

func TestLimitsNarrow(t *testing.T) {
	jpeg := []string{"image/jpeg"}
	for _, tc := range []struct {
		name         string
		parent, want Limits
		out          Limits
		err          bool
	}{
		{name: "none", out: Limits{}},
		{name: "own cap", want: Limits{MaxBytes: 10}, out: Limits{MaxBytes: 10}},
		{name: "parent's smaller cap wins", parent: Limits{MaxBytes: 5}, want: Limits{MaxBytes: 10}, out: Limits{MaxBytes: 5}},
		{name: "parent's cap inherited", parent: Limits{MaxBytes: 5}, out: Limits{MaxBytes: 5}},
		{name: "types narrowed", parent: Limits{ContentTypes: []string{"image/jpeg", "image/png"}}, want: Limits{ContentTypes: []string{"IMAGE/JPEG", "image/gif"}}, out: Limits{ContentTypes: jpeg}},
		{name: "types inherited", parent: Limits{ContentTypes: jpeg}, out: Limits{ContentTypes: jpeg}},
		{name: "no common type", parent: Limits{ContentTypes: jpeg}, want: Limits{ContentTypes: []string{"image/png"}}, err: true},
		{name: "negative cap", want: Limits{MaxBytes: -1}, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.parent.narrow(tc.want)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if err == nil && (got.MaxBytes != tc.out.MaxBytes || !slices.Equal(got.ContentTypes, tc.out.ContentTypes)) {
				t.Fatalf("got %+v, want %+v", got, tc.out)
			}
		})
	}
}

// TestLimitsSignedIntoToken: the limits travel in the signed session token
// (a restart, another node) and pass on to credentials minted from them.
func TestLimitsSignedIntoToken(t *testing.T) {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	s, err := NewStore(Config{RootAccessKey: "ROOTKEY", RootSecretKey: "rootsecretroot", TokenSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	root := &Identity{AccessKey: "ROOTKEY", Root: true}
	c, err := s.MintLimited(ctx, root, "users/1/", "", time.Hour, Limits{MaxBytes: 1000, ContentTypes: []string{"image/jpeg"}})
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.Identity(ctx, &sigv4.Auth{AccessKey: c.AccessKeyID, SessionToken: c.SessionToken})
	if err != nil {
		t.Fatal(err)
	}
	if id.Limits.MaxBytes != 1000 || !id.Limits.AllowsType("image/jpeg") || id.Limits.AllowsType("image/png") {
		t.Fatalf("identity limits %+v", id.Limits)
	}
	child, err := s.MintLimited(ctx, id, "users/1/a/", "", time.Hour, Limits{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	cid, err := s.Identity(ctx, &sigv4.Auth{AccessKey: child.AccessKeyID, SessionToken: child.SessionToken})
	if err != nil || cid.Limits.MaxBytes != 1000 || !slices.Equal(cid.Limits.ContentTypes, []string{"image/jpeg"}) {
		t.Fatalf("child limits %+v %v", cid, err)
	}
}
