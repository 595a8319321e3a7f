package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/imgate/imgate/admin"
	"github.com/imgate/imgate/admin/client"
	"github.com/imgate/imgate/gateway/secrets"
)

func init() {
	register("admin", "terminal dashboard: live jobs, retry/cancel, presets with preview, backfill", runAdmin)
}

func runAdmin(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlagSet("admin", "[--url URL] [--token TOKEN | --data DIR]",
		"Open the terminal dashboard of an imgate server: jobs as they happen, retry and\n"+
			"cancel, the size presets with a preview, and backfills with a progress bar.\n"+
			"The admin token comes from --token, IMGATE_ADMIN_TOKEN, or the secrets.json\n"+
			"that 'imgate serve' wrote in its data directory (--data, default "+defaultDataDir+").", stderr)
	url := fs.String("url", "http://"+defaultListen, "base URL of the imgate server")
	token := fs.String("token", "", "admin bearer token (default: $IMGATE_ADMIN_TOKEN, then DATA/secrets.json)")
	data := fs.String("data", "", "data directory of a local 'imgate serve' to read the admin token from (default "+defaultDataDir+" when it exists)")
	fs.String("config", "", "JSON file with flag values")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	tok, err := adminToken(*token, *data)
	if err != nil {
		return err
	}
	c, err := client.NewHTTP(client.HTTPConfig{BaseURL: *url, Token: tok})
	if err != nil {
		return usagef("%v", err)
	}
	return admin.Run(ctx, c, admin.Options{URL: c.URL()})
}

// adminToken picks the token: the flag (or IMGATE_TOKEN / config file),
// then IMGATE_ADMIN_TOKEN, then the data directory's secrets file.
func adminToken(flagToken, dataDir string) (string, error) {
	if flagToken != "" {
		return flagToken, nil
	}
	if t := os.Getenv("IMGATE_ADMIN_TOKEN"); t != "" {
		return t, nil
	}
	explicit := dataDir != ""
	if !explicit {
		dataDir = defaultDataDir
	}
	path := filepath.Join(dataDir, secrets.FileName)
	s, err := secrets.Load(path)
	switch {
	case err == nil && s.AdminToken != "":
		return s.AdminToken, nil
	case err == nil:
		return "", usagef("%s holds no admin_token", path)
	case explicit || !errors.Is(err, fs.ErrNotExist):
		return "", usagef("no admin token: %v", err)
	}
	return "", usagef("no admin token: pass --token, set IMGATE_ADMIN_TOKEN, or run where --data DIR (default %s) holds the server's %s", defaultDataDir, secrets.FileName)
}
