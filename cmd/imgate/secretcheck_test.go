package main

import (
	"encoding/base64"
	"io"
	"strings"
	"testing"
)

func TestSecretProblems(t *testing.T) {
	key := func(n int) string { return "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, n)) }
	for _, tc := range []struct {
		name string
		cfg  serveConfig
		want string // "" = no problem
	}{
		{"none set", serveConfig{}, ""},
		{"all good", serveConfig{accessKey: "abc", secretKey: "12345678", adminToken: strings.Repeat("a", 16),
			apiKey: strings.Repeat("k", 40), eventsToken: "change-me-events-token", tokenSecret: strings.Repeat("s", 32), webhookSecret: key(32)}, ""},
		{"short admin token", serveConfig{adminToken: "admin"}, "--admin-token (IMGATE_ADMIN_TOKEN) must be at least 16"},
		{"short api key", serveConfig{apiKey: "key"}, "--api-key (IMGATE_API_KEY) must be at least 16"},
		{"short events token", serveConfig{eventsToken: "changeme"}, "--events-token (IMGATE_EVENTS_TOKEN) must be at least 16"},
		{"short token secret", serveConfig{tokenSecret: strings.Repeat("s", 31)}, "IMGATE_TOKEN_SECRET) must be at least 32"},
		{"short secret key", serveConfig{accessKey: "abc", secretKey: "1234567"}, "secret key must be at least 8"},
		{"access key alone", serveConfig{accessKey: "abc"}, "set both"},
		{"webhook secret without prefix", serveConfig{webhookSecret: "secret"}, "must be whsec_"},
		{"webhook secret not base64", serveConfig{webhookSecret: "whsec_!!"}, "not base64"},
		{"webhook key too short", serveConfig{webhookSecret: key(8)}, "the key is 8 bytes; it must be 24 to 64"},
		{"webhook key too long", serveConfig{webhookSecret: key(65)}, "the key is 65 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := strings.Join(tc.cfg.secretProblems(), "\n")
			if tc.want == "" && p != "" || !strings.Contains(p, tc.want) {
				t.Fatalf("problems %q, want %q", p, tc.want)
			}
		})
	}
}

// TestServeRefusesShortEnvSecret: a secret from the environment is checked
// like one from a flag, and the error names the variable.
func TestServeRefusesShortEnvSecret(t *testing.T) {
	unsetEnv(t, "IMGATE_CONFIG")
	t.Setenv("IMGATE_ADMIN_TOKEN", "letmein")
	_, err := parseServeConfig([]string{"--data", t.TempDir()}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "IMGATE_ADMIN_TOKEN") {
		t.Fatalf("err = %v, want the short IMGATE_ADMIN_TOKEN refused", err)
	}
}
