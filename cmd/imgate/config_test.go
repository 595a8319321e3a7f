package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// unsetEnv removes name for the test (and restores it afterwards).
func unsetEnv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "")
	if err := os.Unsetenv(name); err != nil {
		t.Fatal(err)
	}
}

// TestServeConfigPrecedence: the command line wins over IMGATE_* env, env
// over the --config file, the file over the default.
func TestServeConfigPrecedence(t *testing.T) {
	for _, name := range []string{"IMGATE_BODY_MIN_RATE", "IMGATE_MULTIPART_EXPIRY", "IMGATE_BODY_IDLE_TIMEOUT", "IMGATE_MAX_UPLOADS_PER_CLIENT", "IMGATE_MAX_UPLOAD_BYTES", "IMGATE_LISTEN", "IMGATE_S3_PATH_STYLE", "IMGATE_CONFIG", "IMGATE_DATA"} {
		unsetEnv(t, name)
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		file    string // config JSON; "" = no --config
		wantMax int64
		listen  string
		path    bool // --s3-path-style
		wantErr string
		// when set: --body-idle-timeout, --body-min-rate, --max-uploads-per-client
		idle      time.Duration
		rate      int64
		perClient int
	}{
		{name: "defaults", wantMax: 100 << 20, listen: defaultListen, path: true},
		{name: "file over default", file: `{"max-upload-bytes": 5, "listen": "0.0.0.0:9", "s3-path-style": false}`,
			wantMax: 5, listen: "0.0.0.0:9", path: false},
		{name: "env over file", env: map[string]string{"IMGATE_MAX_UPLOAD_BYTES": "6"}, file: `{"max-upload-bytes": 5}`,
			wantMax: 6, listen: defaultListen, path: true},
		{name: "command line over env and file", args: []string{"--max-upload-bytes", "7"},
			env: map[string]string{"IMGATE_MAX_UPLOAD_BYTES": "6"}, file: `{"max-upload-bytes": 5}`,
			wantMax: 7, listen: defaultListen, path: true},
		{name: "command line over file", args: []string{"--listen", "127.0.0.1:1"}, file: `{"listen": "0.0.0.0:9", "max-upload-bytes": "8"}`,
			wantMax: 8, listen: "127.0.0.1:1", path: true},
		{name: "each setting from its own source", args: []string{"--listen", "127.0.0.1:1"},
			env: map[string]string{"IMGATE_S3_PATH_STYLE": "false"}, file: `{"max-upload-bytes": 9}`,
			wantMax: 9, listen: "127.0.0.1:1", path: false},
		{name: "config file named by env", env: map[string]string{"IMGATE_CONFIG": "FILE"}, file: `{"max-upload-bytes": 10}`,
			wantMax: 10, listen: defaultListen, path: true},
		{name: "bad env value", env: map[string]string{"IMGATE_MAX_UPLOAD_BYTES": "lots"}, wantErr: `IMGATE_MAX_UPLOAD_BYTES="lots"`},
		{name: "bad file value", file: `{"max-upload-bytes": "lots"}`, wantErr: `config file: max-upload-bytes="lots"`},
		{name: "unknown file key", file: `{"max_upload_bytes": 1}`, wantErr: `unknown setting "max_upload_bytes"`},
		{name: "file not an object", file: `["listen"]`, wantErr: "not a JSON object"},
		{name: "pacing flags from each source", args: []string{"--body-idle-timeout", "5s"},
			env: map[string]string{"IMGATE_BODY_MIN_RATE": "2048"}, file: `{"max-uploads-per-client": 3, "body-min-rate": 1, "multipart-expiry": "2h"}`,
			wantMax: 100 << 20, listen: defaultListen, path: true, idle: 5 * time.Second, rate: 2048, perClient: 3},
		{name: "negative min rate", args: []string{"--body-min-rate", "-1"}, wantErr: "--body-min-rate must be ≥ 0"},
		{name: "invalid after merge", args: []string{"--max-upload-bytes", "0"}, file: `{"max-upload-bytes": 5}`, wantErr: "--max-upload-bytes must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--data", t.TempDir()}, tt.args...)
			if tt.file != "" {
				path := filepath.Join(t.TempDir(), "imgate.json")
				if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
				if tt.env["IMGATE_CONFIG"] == "" {
					args = append(args, "--config", path)
				} else {
					t.Setenv("IMGATE_CONFIG", path)
				}
			}
			for k, v := range tt.env {
				if k != "IMGATE_CONFIG" {
					t.Setenv(k, v)
				}
			}
			cfg, err := parseServeConfig(args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.maxUploadBytes != tt.wantMax || cfg.listen != tt.listen || cfg.s3PathStyle != tt.path {
				t.Errorf("max-upload-bytes %d listen %q s3-path-style %v, want %d %q %v",
					cfg.maxUploadBytes, cfg.listen, cfg.s3PathStyle, tt.wantMax, tt.listen, tt.path)
			}
			if tt.idle != 0 && cfg.multipartExpiry != 2*time.Hour {
				t.Errorf("multipart-expiry %v, want 2h from the file", cfg.multipartExpiry)
			}
			if tt.idle != 0 && (cfg.bodyIdleTimeout != tt.idle || cfg.bodyMinRate != tt.rate || cfg.maxUploadsPerClient != tt.perClient) {
				t.Errorf("body-idle-timeout %v body-min-rate %d max-uploads-per-client %d, want %v %d %d",
					cfg.bodyIdleTimeout, cfg.bodyMinRate, cfg.maxUploadsPerClient, tt.idle, tt.rate, tt.perClient)
			}
		})
	}
}

// TestServeConfigNestedKeys: the presets and keys come from the same parse
// of the file, by key, not by a text search of it.
func TestServeConfigNestedKeys(t *testing.T) {
	unsetEnv(t, "IMGATE_CONFIG")
	tests := []struct {
		name     string
		file     string
		presets  []string // names
		keys     int
		wantErr  string
		wantNone bool
	}{
		{name: "sizes", file: `{"sizes": ["50x50", "150x"]}`, presets: []string{"50x50", "150x"}},
		{name: "presets and keys", file: `{"presets": [{"name": "thumb", "geometry": "64x64^"}], "keys": [{"access_key": "app1", "secret_key": "app1-secret-key", "prefix": "users/app1/"}]}`,
			presets: []string{"thumb"}, keys: 1},
		{name: "the word sizes in a value is not a sizes key", file: `{"public-url": "http://example.com/\"sizes\""}`, wantNone: true},
		{name: "bad sizes", file: `{"sizes": ["50y50"]}`, wantErr: "50y50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "imgate.json")
			if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := parseServeConfig([]string{"--data", t.TempDir(), "--config", path}, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range cfg.presets {
				names = append(names, p.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.presets, ",") || (tt.wantNone && cfg.presets != nil) {
				t.Errorf("presets %v, want %v", names, tt.presets)
			}
			if len(cfg.keys.Keys) != tt.keys {
				t.Errorf("%d keys, want %d", len(cfg.keys.Keys), tt.keys)
			}
		})
	}
}

// TestServeConfigCORSOrigins: a list setting comes as a JSON array in the
// file or comma-separated elsewhere; a malformed origin is a usage error.
func TestServeConfigCORSOrigins(t *testing.T) {
	unsetEnv(t, "IMGATE_CONFIG")
	unsetEnv(t, "IMGATE_CORS_ORIGINS")
	path := filepath.Join(t.TempDir(), "imgate.json")
	if err := os.WriteFile(path, []byte(`{"cors-origins": ["https://a.example", "http://127.0.0.1:3000"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseServeConfig([]string{"--data", t.TempDir(), "--config", path}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.corsOrigins != "https://a.example,http://127.0.0.1:3000" {
		t.Fatalf("cors-origins %q", cfg.corsOrigins)
	}
	_, err = parseServeConfig([]string{"--data", t.TempDir(), "--cors-origins", "app.example"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--cors-origins") {
		t.Fatalf("bad origin: %v", err)
	}
}
