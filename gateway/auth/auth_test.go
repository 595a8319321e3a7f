package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/sigv4"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/signer"
)

var tokenSecret = []byte("0123456789abcdef0123456789abcdef")

func newStore(t *testing.T, now func() time.Time) *Store {
	t.Helper()
	s, err := NewStore(Config{
		RootAccessKey: "rootkey",
		RootSecretKey: "rootsecret123",
		Keys:          []StaticKey{{AccessKey: "alicekey", SecretKey: "alicesecret1", Prefix: "users/alice/"}},
		APIKeys:       []APIKey{{Name: "app", Key: "app-key-0123456789", Prefix: "apps/"}},
		TokenSecret:   tokenSecret,
		Now:           now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// server verifies each request with a Verifier backed by the store and
// answers 200 only if the identity is allowed to PUT the path's key.
func server(t *testing.T, s *Store, now func() time.Time) *httptest.Server {
	v := &sigv4.Verifier{Region: "us-east-1", Lookup: s.Lookup, Now: now}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := v.Verify(r.Context(), r, "s3")
		if err != nil {
			e := sigv4.AsError(err)
			w.Header().Set("X-Error-Code", e.Code)
			w.WriteHeader(e.Status)
			return
		}
		id, err := s.Identity(r.Context(), a)
		if err != nil {
			e := sigv4.AsError(err)
			w.Header().Set("X-Error-Code", e.Code)
			w.WriteHeader(e.Status)
			return
		}
		bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if !id.Allowed(ActionPutObject, bucket, key) {
			w.Header().Set("X-Error-Code", "AccessDenied")
			w.WriteHeader(http.StatusForbidden)
			return
		}
		body, _ := a.Body(r)
		if _, err := io.Copy(io.Discard, body); err != nil {
			w.WriteHeader(400)
			return
		}
		w.WriteHeader(200)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func put(t *testing.T, url, ak, sk, token string) string {
	t.Helper()
	r, err := http.NewRequest("PUT", url, strings.NewReader("data"))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("X-Amz-Content-Sha256", sigv4.UnsignedPayload)
	r = signer.SignV4(*r, ak, sk, token, "us-east-1")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 {
		return "OK"
	}
	return resp.Header.Get("X-Error-Code")
}

func TestStaticKeysAndTemporaryCredentials(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	s := newStore(t, clock)
	ts := server(t, s, clock)
	ctx := context.Background()

	if got := put(t, ts.URL+"/photos-original/anything.jpg", "rootkey", "rootsecret123", ""); got != "OK" {
		t.Fatalf("root: %s", got)
	}
	if got := put(t, ts.URL+"/photos-original/users/alice/a.jpg", "alicekey", "alicesecret1", ""); got != "OK" {
		t.Fatalf("alice in prefix: %s", got)
	}
	if got := put(t, ts.URL+"/photos-original/users/bob/a.jpg", "alicekey", "alicesecret1", ""); got != "AccessDenied" {
		t.Fatalf("alice outside prefix: %s", got)
	}
	if got := put(t, ts.URL+"/photos-original/x", "nobody", "whatever1", ""); got != "InvalidAccessKeyId" {
		t.Fatalf("unknown key: %s", got)
	}

	root, err := s.Identity(ctx, &sigv4.Auth{AccessKey: "rootkey"})
	if err != nil || !root.Root {
		t.Fatalf("root identity %+v %v", root, err)
	}
	tc, err := s.Mint(ctx, root, "users/carol/", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tc.AccessKeyID, "IGT") || len(tc.SecretAccessKey) != 40 || tc.SessionToken == "" ||
		tc.Expiration.Sub(now) > time.Hour || tc.Expiration.Sub(now) < time.Hour-time.Second {
		t.Fatalf("minted %+v", tc)
	}
	if got := put(t, ts.URL+"/photos-original/users/carol/x.jpg", tc.AccessKeyID, tc.SecretAccessKey, tc.SessionToken); got != "OK" {
		t.Fatalf("temp in prefix: %s", got)
	}
	if got := put(t, ts.URL+"/photos-original/users/dave/x.jpg", tc.AccessKeyID, tc.SecretAccessKey, tc.SessionToken); got != "AccessDenied" {
		t.Fatalf("temp outside prefix: %s", got)
	}
	if got := put(t, ts.URL+"/photos-original/users/carol/x.jpg", tc.AccessKeyID, tc.SecretAccessKey, ""); got != "MissingSecurityHeader" {
		t.Fatalf("temp without token: %s", got)
	}

	// A restarted store with the same token secret accepts the credentials.
	s2 := newStore(t, clock)
	ts2 := server(t, s2, clock)
	if got := put(t, ts2.URL+"/photos-original/users/carol/y.jpg", tc.AccessKeyID, tc.SecretAccessKey, tc.SessionToken); got != "OK" {
		t.Fatalf("after restart: %s", got)
	}

	// Forged tokens: another credential's token, a re-signed payload, garbage.
	other, _ := s.Mint(ctx, root, "users/", "", 0)
	parts := strings.Split(tc.SessionToken, ".")
	forgeries := map[string]string{
		"other token":   other.SessionToken,
		"garbage":       "igt1.abc.def",
		"bad mac":       parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])),
		"payload edit":  parts[0] + "." + parts[1] + "x" + "." + parts[2],
		"other version": "igt2." + parts[1] + "." + parts[2],
	}
	for name, tok := range forgeries {
		if got := put(t, ts.URL+"/photos-original/users/carol/x.jpg", tc.AccessKeyID, tc.SecretAccessKey, tok); got != "InvalidToken" {
			t.Errorf("forged token %s: %s", name, got)
		}
	}
	// A forged access key (valid shape, bad MAC) is unknown.
	ak := []byte(tc.AccessKeyID)
	// Change the last character to another one of the same alphabet (a bit
	// flip could map 'A' to '@' and back, leaving the key unchanged).
	if ak[len(ak)-1] == 'B' {
		ak[len(ak)-1] = 'C'
	} else {
		ak[len(ak)-1] = 'B'
	}
	if got := put(t, ts.URL+"/photos-original/users/carol/x.jpg", string(ak), tc.SecretAccessKey, tc.SessionToken); got != "InvalidAccessKeyId" {
		t.Errorf("forged access key: %s", got)
	}
	// A different token secret: nothing minted elsewhere is accepted.
	s3, _ := NewStore(Config{TokenSecret: []byte(strings.Repeat("z", 32)), Now: clock})
	ts3 := server(t, s3, clock)
	if got := put(t, ts3.URL+"/photos-original/users/carol/x.jpg", tc.AccessKeyID, tc.SecretAccessKey, tc.SessionToken); got != "InvalidAccessKeyId" {
		t.Errorf("other server secret: %s", got)
	}

	// Expired: minted 61 minutes ago for an hour, used now.
	now = time.Now().Add(-61 * time.Minute)
	old, err := s.Mint(ctx, root, "users/carol/", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now = time.Now()
	if got := put(t, ts.URL+"/photos-original/users/carol/x.jpg", old.AccessKeyID, old.SecretAccessKey, old.SessionToken); got != "ExpiredToken" {
		t.Fatalf("expired: %s", got)
	}
	if _, err := s.parseToken(old.SessionToken, old.AccessKeyID); !errors.Is(err, sigv4.ErrExpiredToken) {
		t.Fatalf("expired token: %v", err)
	}
}

func TestMint(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newStore(t, func() time.Time { return now })
	ctx := context.Background()
	alice := &Identity{AccessKey: "alicekey", Prefix: "users/alice/"}
	for _, tt := range []struct {
		name   string
		parent *Identity
		prefix string
		policy string
		d      time.Duration
		err    error
	}{
		{"inside prefix", alice, "users/alice/photos/", "", 15 * time.Minute, nil},
		{"same prefix", alice, "users/alice/", "", 12 * time.Hour, nil},
		{"outside prefix", alice, "users/bob/", "", 0, ErrPrefixNotAllowed},
		{"wider prefix", alice, "users/", "", 0, ErrPrefixNotAllowed},
		{"too short", alice, "users/alice/", "", 899 * time.Second, ErrInvalidDuration},
		{"too long", alice, "users/alice/", "", 12*time.Hour + time.Second, ErrInvalidDuration},
		{"bad policy", alice, "users/alice/", `{"Statement":[]}`, 0, ErrInvalidPolicy},
		{"nil parent", nil, "x/", "", 0, ErrNotAuthenticated},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Mint(ctx, tt.parent, tt.prefix, tt.policy, tt.d)
			if (err == nil) != (tt.err == nil) || (tt.err != nil && !errors.Is(err, tt.err)) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
		})
	}
	noSecret, _ := NewStore(Config{RootAccessKey: "rootkey", RootSecretKey: "rootsecret123"})
	if _, err := noSecret.Mint(ctx, alice, "users/alice/", "", 0); !errors.Is(err, ErrNoTokenSecret) {
		t.Fatalf("no secret: %v", err)
	}
}

// TestChainedPolicies: credentials minted from temporary credentials keep
// the parent's policy, prefix bound and expiry.
func TestChainedPolicies(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newStore(t, func() time.Time { return now })
	ctx := context.Background()
	root := &Identity{AccessKey: "rootkey", Root: true}
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b-original/users/*"},
	 {"Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]}`
	p1, err := s.Mint(ctx, root, "users/", pol, 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	id1 := identityOf(t, s, p1)
	if !id1.Allowed(ActionPutObject, "b-original", "users/x") || id1.Allowed(ActionDeleteObject, "b-original", "users/x") || id1.Allowed(ActionPutObject, "c-original", "users/x") {
		t.Fatal("first-level policy")
	}
	p2, err := s.Mint(ctx, id1, "users/z/", `{"Statement":{"Effect":"Allow","Action":["s3:PutObject","s3:DeleteObject"],"Resource":"*"}}`, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !p2.Expiration.Equal(p1.Expiration) {
		t.Fatalf("child outlives parent: %v > %v", p2.Expiration, p1.Expiration)
	}
	id2 := identityOf(t, s, p2)
	if !id2.Allowed(ActionPutObject, "b-original", "users/z/1") {
		t.Fatal("child put")
	}
	if id2.Allowed(ActionDeleteObject, "b-original", "users/z/1") {
		t.Fatal("child escaped the parent's Deny")
	}
	if id2.Allowed(ActionPutObject, "b-original", "users/y/1") {
		t.Fatal("child escaped its prefix")
	}
	if id2.Allowed(ActionGetObject, "b-original", "users/z/1") {
		t.Fatal("child got an action its own policy does not allow")
	}
}

func identityOf(t *testing.T, s *Store, c TempCredentials) *Identity {
	t.Helper()
	cred, err := s.Lookup(context.Background(), c.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	if cred.SecretKey != c.SecretAccessKey || cred.ValidateToken(c.SessionToken) != nil {
		t.Fatal("lookup of minted credentials")
	}
	id, err := s.Identity(context.Background(), &sigv4.Auth{AccessKey: c.AccessKeyID, SessionToken: c.SessionToken})
	if err != nil {
		t.Fatal(err)
	}
	if !id.Temporary {
		t.Fatal("not temporary")
	}
	return id
}

func TestAllowed(t *testing.T) {
	pol, err := ParseSessionPolicy([]byte(`{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Action":["s3:PutObject","s3:Get*"],"Resource":["arn:aws:s3:::p-original/users/alice/*"]},
	  {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::p-original"},
	  {"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::p-original/users/alice/secret/*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	root := &Identity{Root: true}
	alice := &Identity{Prefix: "users/alice/"}
	temp := &Identity{Prefix: "users/", Policy: pol, Temporary: true}
	tests := []struct {
		id                  *Identity
		action, bucket, key string
		want                bool
	}{
		{root, ActionDeleteObject, "p-original", "any", true},
		{alice, ActionPutObject, "p-original", "users/alice/a.jpg", true},
		{alice, ActionPutObject, "p-original", "users/alicex/a.jpg", false},
		{alice, ActionPutObject, "p-original", "users/bob/a.jpg", false},
		{alice, ActionGetObject, "p-resized", "150x/users/alice/a.jpg", true},
		{alice, ActionGetObject, "p-resized", "150x/users/bob/a.jpg", false},
		{alice, ActionListBucket, "p-original", "users/alice/", true},
		{alice, ActionListBucket, "p-original", "", false},
		{alice, ActionGetBucketLocation, "p-original", "", true},
		{temp, ActionPutObject, "p-original", "users/alice/a.jpg", true},
		{temp, "S3:PUTOBJECT", "p-original", "users/alice/a.jpg", true},
		{temp, ActionGetObject, "p-original", "users/alice/a.jpg", true},
		{temp, ActionDeleteObject, "p-original", "users/alice/a.jpg", false},
		{temp, ActionPutObject, "p-original", "users/bob/a.jpg", false},
		{temp, ActionPutObject, "q-original", "users/alice/a.jpg", false},
		{temp, ActionPutObject, "p-original", "users/alice/secret/a.jpg", false},
		{temp, ActionListBucket, "p-original", "users/alice/", true},
		{temp, ActionListBucket, "p-original", "users/alice/secret/", false},
		{temp, ActionListBucket, "p-original", "other/", false},
		{temp, ActionGetBucketLocation, "p-original", "", false},
		{nil, ActionGetObject, "p-original", "x", false},
		{alice, "", "p-original", "users/alice/a", false},
	}
	for _, tt := range tests {
		if got := tt.id.Allowed(tt.action, tt.bucket, tt.key); got != tt.want {
			t.Errorf("%+v Allowed(%s, %s, %s) = %v", tt.id, tt.action, tt.bucket, tt.key, got)
		}
	}
}

func TestParseSessionPolicy(t *testing.T) {
	tests := []struct {
		name, doc string
		ok        bool
	}{
		{"object statement", `{"Statement":{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}}`, true},
		{"full", `{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"a","Effect":"Deny","Action":["s3:*"],"Resource":["arn:aws:s3:::b/*","arn:aws:s3:::b"]}]}`, true},
		{"empty statements", `{"Statement":[]}`, false},
		{"no statement", `{"Version":"2012-10-17"}`, false},
		{"bad version", `{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, false},
		{"bad effect", `{"Statement":{"Effect":"allow","Action":"s3:*","Resource":"*"}}`, false},
		{"condition", `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{}}}`, false},
		{"not action", `{"Statement":{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}}`, false},
		{"principal", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`, false},
		{"no resource", `{"Statement":{"Effect":"Allow","Action":"s3:*"}}`, false},
		{"empty action list", `{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`, false},
		{"empty action", `{"Statement":{"Effect":"Allow","Action":"","Resource":"*"}}`, false},
		{"non-s3 action", `{"Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*"}}`, false},
		{"non-s3 resource", `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:iam::1:role/x"}}`, false},
		{"duplicate key", `{"Statement":{"Effect":"Allow","Effect":"Deny","Action":"s3:*","Resource":"*"}}`, false},
		{"case-variant duplicate key", `{"Statement":{"Effect":"Deny","effect":"Allow","Action":"s3:*","Resource":"*"}}`, false},
		{"trailing", `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}} x`, false},
		{"unknown top-level", `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"},"X":1}`, false},
		{"statement list of strings", `{"Statement":["x"]}`, false},
		{"too long", `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Sid":"` + strings.Repeat("a", 3000) + `"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSessionPolicy([]byte(tt.doc))
			if tt.ok != (err == nil) {
				t.Fatalf("err %v", err)
			}
			if err != nil && !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("error does not wrap ErrInvalidPolicy: %v", err)
			}
		})
	}
}

func TestWildcardMatch(t *testing.T) {
	for _, tt := range []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*c", "abbbc", true}, {"a*c", "abcd", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"arn:aws:s3:::b/users/*", "arn:aws:s3:::b/users/x/y", true},
		{"arn:aws:s3:::b/users/*", "arn:aws:s3:::b/user", false}, {"*a*a*a*a*b", strings.Repeat("a", 5000), false},
		{"", "", true}, {"", "a", false}, {"**", "x", true},
	} {
		if got := wildcardMatch(tt.pat, tt.s); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", tt.pat, tt.s, got)
		}
	}
}

func TestConfig(t *testing.T) {
	f, err := ParseKeysFile([]byte(`{"listen":":8080","keys":[{"access_key":"bobkey","secret_key":"bobsecret1","prefix":"users/bob/"}],"api_keys":[{"name":"web","key":"0123456789abcdef"}]}`))
	if err != nil || len(f.Keys) != 1 || f.Keys[0].Prefix != "users/bob/" || len(f.APIKeys) != 1 {
		t.Fatalf("%+v %v", f, err)
	}
	for name, cfg := range map[string]Config{
		"short secret":   {RootAccessKey: "rootkey", RootSecretKey: "short"},
		"reserved":       {Keys: []StaticKey{{AccessKey: "IGTabc", SecretKey: "secret123"}}},
		"duplicate":      {RootAccessKey: "rootkey", RootSecretKey: "rootsecret", Keys: []StaticKey{{AccessKey: "rootkey", SecretKey: "secret123"}}},
		"slash":          {Keys: []StaticKey{{AccessKey: "a/b", SecretKey: "secret123"}}},
		"bad prefix":     {Keys: []StaticKey{{AccessKey: "abc", SecretKey: "secret123", Prefix: "/abs"}}},
		"short token":    {TokenSecret: []byte("short")},
		"short API key":  {APIKeys: []APIKey{{Name: "x", Key: "short"}}},
		"wildcard pfx":   {Keys: []StaticKey{{AccessKey: "abc", SecretKey: "secret123", Prefix: "a*"}}},
		"pfx without /":  {Keys: []StaticKey{{AccessKey: "abc", SecretKey: "secret123", Prefix: "users/42"}}},
		"api pfx no /":   {APIKeys: []APIKey{{Name: "web", Key: "web-key-0123456789", Prefix: "users/42"}}},
		"empty root key": {RootSecretKey: "rootsecret"},
	} {
		if _, err := NewStore(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestAPIKeys(t *testing.T) {
	s := newStore(t, nil)
	id, err := s.AuthenticateAPIKey(context.Background(), "app-key-0123456789")
	if err != nil || id.Prefix != "apps/" || id.APIKey != "app" {
		t.Fatalf("%+v %v", id, err)
	}
	for _, k := range []string{"", "app-key-012345678", "app-key-01234567890", "APP-KEY-0123456789"} {
		if _, err := s.AuthenticateAPIKey(context.Background(), k); !errors.Is(err, ErrUnknownAPIKey) {
			t.Errorf("%q: %v", k, err)
		}
	}
}

func FuzzParseSessionPolicy(f *testing.F) {
	f.Add([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":"arn:aws:s3:::b/u/*"}]}`))
	f.Add([]byte(`{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}`))
	f.Add([]byte(`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::*"]}],"Statement":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseSessionPolicy(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("error does not wrap ErrInvalidPolicy: %v", err)
			}
			return
		}
		if len(p.Statements) == 0 {
			t.Fatal("accepted a policy without statements")
		}
		for _, st := range p.Statements {
			if (st.Effect != "Allow" && st.Effect != "Deny") || len(st.Actions) == 0 || len(st.Resources) == 0 {
				t.Fatalf("bad statement %+v", st)
			}
		}
		id := &Identity{Policy: p, Temporary: true}
		_ = id.Allowed(ActionPutObject, "b-original", "users/x")
		_ = id.Allowed(ActionListBucket, "b-original", "")
		// The policy's own JSON re-encoding parses to the same decisions.
		raw, err := json.Marshal(p.document())
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParseSessionPolicy(raw)
		if err != nil {
			if len(raw) > MaxSessionPolicySize {
				return // re-encoding can grow past the limit (escaping)
			}
			t.Fatalf("re-encoded policy refused: %v\n%s", err, raw)
		}
		for _, a := range []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject"} {
			for _, k := range []string{"users/x", "", "a/b"} {
				if p.Allows(a, arnPrefix+"b-original/"+k) != q.Allows(a, arnPrefix+"b-original/"+k) {
					t.Fatalf("re-encoded policy decides differently for %s %s", a, k)
				}
			}
		}
		_ = fmt.Sprint(p)
	})
}

// TestPostWithTemporaryCredentials: a browser POST form signed with minted
// credentials verifies, and its identity is the temporary one.
func TestPostWithTemporaryCredentials(t *testing.T) {
	s := newStore(t, nil)
	ctx := context.Background()
	tc, err := s.Mint(ctx, &Identity{AccessKey: "rootkey", Root: true}, "users/eve/", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.New("127.0.0.1:1", &minio.Options{Creds: credentials.NewStaticV4(tc.AccessKeyID, tc.SecretAccessKey, tc.SessionToken), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	p := minio.NewPostPolicy()
	_ = p.SetBucket("photos-original")
	_ = p.SetKey("users/eve/a.jpg")
	_ = p.SetExpires(time.Now().Add(time.Hour))
	_, form, err := c.PresignedPostPolicy(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for k, v := range form {
		fields[strings.ToLower(k)] = v
	}
	v := &sigv4.Verifier{Region: "us-east-1", Lookup: s.Lookup}
	a, pol, err := v.VerifyPost(ctx, fields)
	if err != nil {
		t.Fatal(err)
	}
	if err := pol.CheckFields(fields); err != nil {
		t.Fatal(err)
	}
	id, err := s.Identity(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if !id.Temporary || id.Prefix != "users/eve/" || !id.Allowed(ActionPutObject, "photos-original", fields["key"]) {
		t.Fatalf("identity %+v", id)
	}
	delete(fields, "x-amz-security-token")
	if _, _, err := v.VerifyPost(ctx, fields); !errors.Is(err, sigv4.ErrMissingSecurityHeader) {
		t.Fatalf("without token: %v", err)
	}
}
