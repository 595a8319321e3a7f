package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdminToken(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secrets.json"), []byte(`{"admin_token":"from-file","api_key":"k"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "secrets.json"), []byte(`{"api_key":"k"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, flag, env, data string
		want, wantErr         string
	}{
		{name: "flag wins", flag: "f", env: "e", data: dir, want: "f"},
		{name: "env next", env: "e", data: dir, want: "e"},
		{name: "data dir", data: dir, want: "from-file"},
		{name: "data dir without token", data: empty, wantErr: "holds no admin_token"},
		{name: "missing explicit data dir", data: filepath.Join(dir, "nope"), wantErr: "no admin token"},
		{name: "nothing", wantErr: "pass --token, set IMGATE_ADMIN_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("IMGATE_ADMIN_TOKEN", tt.env)
			t.Chdir(t.TempDir()) // no ./imgate-data here
			got, err := adminToken(tt.flag, tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("adminToken = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestAdminTokenDefaultDataDir(t *testing.T) {
	t.Setenv("IMGATE_ADMIN_TOKEN", "")
	wd := t.TempDir()
	t.Chdir(wd)
	if err := os.MkdirAll("imgate-data", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("imgate-data", "secrets.json"), []byte(`{"admin_token":"local"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := adminToken("", ""); err != nil || got != "local" {
		t.Fatalf("adminToken = %q, %v", got, err)
	}
}
