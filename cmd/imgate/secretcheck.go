package main

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// Minimum lengths of the secrets an operator sets (flags or IMGATE_*
// environment). The generated ones are far longer; these refuse the
// "changeme" kind that anyone could guess.
const (
	minBearerToken = 16 // --admin-token, --api-key, --events-token
	minTokenSecret = 32 // --token-secret: an HMAC key
	minWebhookKey  = 24 // --webhook-secret: decoded key bytes (Standard Webhooks: 24–64)
	maxWebhookKey  = 64
)

// secretProblems checks the secrets given to serve; an empty one is
// generated and kept in DATA/secrets.json, so only set ones are checked.
func (f *serveConfig) secretProblems() []string {
	var p []string
	if f.accessKey != "" && len(f.accessKey) < 3 {
		p = append(p, "access key must be at least 3 characters")
	}
	if f.secretKey != "" && len(f.secretKey) < 8 {
		p = append(p, "secret key must be at least 8 characters")
	}
	if (f.accessKey == "") != (f.secretKey == "") {
		p = append(p, "set both IMGATE_ACCESS_KEY and IMGATE_SECRET_KEY, or neither")
	}
	for _, s := range []struct{ name, env, v string }{
		{"--admin-token", "IMGATE_ADMIN_TOKEN", f.adminToken},
		{"--api-key", "IMGATE_API_KEY", f.apiKey},
		{"--events-token", "IMGATE_EVENTS_TOKEN", f.eventsToken},
	} {
		if s.v != "" && len(s.v) < minBearerToken {
			p = append(p, fmt.Sprintf("%s (%s) must be at least %d characters; leave it unset to have one generated", s.name, s.env, minBearerToken))
		}
	}
	if f.tokenSecret != "" && len(f.tokenSecret) < minTokenSecret {
		p = append(p, fmt.Sprintf("--token-secret (IMGATE_TOKEN_SECRET) must be at least %d characters; leave it unset to have one generated", minTokenSecret))
	}
	if f.webhookSecret != "" {
		if err := checkWebhookSecret(f.webhookSecret); err != nil {
			p = append(p, "--webhook-secret (IMGATE_WEBHOOK_SECRET): "+err.Error())
		}
	}
	return p
}

// checkWebhookSecret wants "whsec_" and the base64 of a 24–64 byte key.
func checkWebhookSecret(s string) error {
	b64, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		return fmt.Errorf("must be whsec_ followed by a base64 key")
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return fmt.Errorf("the part after whsec_ is not base64")
	}
	if len(key) < minWebhookKey || len(key) > maxWebhookKey {
		return fmt.Errorf("the key is %d bytes; it must be %d to %d", len(key), minWebhookKey, maxWebhookKey)
	}
	return nil
}
