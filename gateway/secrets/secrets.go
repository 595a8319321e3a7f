// Package secrets keeps the credentials imgate needs at start-up: the root
// S3 key pair, the admin token, the /v1 API key, the events token and the key
// that signs temporary credentials and the webhook signing secret. Values given by the operator win; the
// rest are generated once, stored in a 0600 JSON file in the data directory
// and reused on every later start (never a well-known default).
package secrets

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Secrets are the server's credentials. JSON names are the file's keys.
type Secrets struct {
	AccessKey   string `json:"access_key"`
	SecretKey   string `json:"secret_key"`
	AdminToken  string `json:"admin_token"`
	APIKey      string `json:"api_key"`
	EventsToken string `json:"events_token"`
	TokenSecret string `json:"token_secret"`
	// WebhookSecret signs webhooks (Standard Webhooks: "whsec_" + base64 key).
	WebhookSecret string `json:"webhook_secret"`
}

// FileName is the name of the secrets file inside the data directory.
const FileName = "secrets.json"

// Load reads the secrets file at path.
func Load(path string) (Secrets, error) {
	var s Secrets
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("read secrets: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("secrets file %s is not valid JSON: %w", path, err)
	}
	return s, nil
}

// Resolve fills every empty field of given from the stored file, or by
// generating a new random value; it writes the file (mode 0600) when it
// generated anything, and returns the names of generated fields so the caller
// can print them once.
func Resolve(path string, given Secrets) (Secrets, []string, error) {
	stored, err := Load(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return given, nil, err
	}
	out := given
	var generated []string
	fields := []struct {
		name   string
		dst    *string
		stored string
		gen    func() string
	}{
		{"access_key", &out.AccessKey, stored.AccessKey, func() string { return "IMG" + strings.ToUpper(randomString(17, upperAlnum)) }},
		{"secret_key", &out.SecretKey, stored.SecretKey, func() string { return randomString(40, alnum) }},
		{"admin_token", &out.AdminToken, stored.AdminToken, func() string { return "adm_" + randomString(32, alnum) }},
		{"api_key", &out.APIKey, stored.APIKey, func() string { return "key_" + randomString(32, alnum) }},
		{"events_token", &out.EventsToken, stored.EventsToken, func() string { return "evt_" + randomString(32, alnum) }},
		{"token_secret", &out.TokenSecret, stored.TokenSecret, func() string { return randomString(48, alnum) }},
		{"webhook_secret", &out.WebhookSecret, stored.WebhookSecret, func() string { return "whsec_" + randomBase64(32) }},
	}
	changed := false
	for _, f := range fields {
		switch {
		case *f.dst != "":
		case f.stored != "":
			*f.dst = f.stored
		default:
			*f.dst = f.gen()
			generated = append(generated, f.name)
			changed = true
		}
	}
	if changed {
		// Only generated values are persisted next to the stored ones; values the
		// operator passed in the environment are not written to disk.
		persist := stored
		for _, f := range fields {
			for _, g := range generated {
				if g == f.name {
					setField(&persist, f.name, *f.dst)
				}
			}
		}
		if err := write(path, persist); err != nil {
			return out, nil, err
		}
	}
	return out, generated, nil
}

func setField(s *Secrets, name, v string) {
	switch name {
	case "access_key":
		s.AccessKey = v
	case "secret_key":
		s.SecretKey = v
	case "admin_token":
		s.AdminToken = v
	case "api_key":
		s.APIKey = v
	case "events_token":
		s.EventsToken = v
	case "token_secret":
		s.TokenSecret = v
	case "webhook_secret":
		s.WebhookSecret = v
	}
}

func write(path string, s Secrets) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secrets-*")
	if err != nil {
		return fmt.Errorf("write secrets: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write secrets: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write secrets: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write secrets: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write secrets: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write secrets: %w", err)
	}
	return nil
}

const (
	alnum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

// randomString returns n characters drawn uniformly from set using crypto/rand.
func randomString(n int, set string) string {
	out := make([]byte, n)
	buf := make([]byte, 1)
	limit := 256 - 256%len(set)
	for i := 0; i < n; {
		if _, err := rand.Read(buf); err != nil {
			panic(fmt.Sprintf("crypto/rand: %v", err))
		}
		if int(buf[0]) >= limit {
			continue
		}
		out[i] = set[int(buf[0])%len(set)]
		i++
	}
	return string(out)
}

// randomBase64 is n random bytes in standard base64.
func randomBase64(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.StdEncoding.EncodeToString(b)
}
