package main

import (
	"fmt"
	"os"

	"github.com/imgate/imgate/gateway/auth"
)

// loadKeys reads the optional "keys" and "api_keys" arrays of the --config
// file: extra static S3 key pairs and /v1 API keys, each limited to a key
// prefix of NAME-original.
//
//	{"keys":     [{"access_key": "app1", "secret_key": "…", "prefix": "users/app1/"}],
//	 "api_keys": [{"name": "web", "key": "…", "prefix": "uploads/web/"}]}
func loadKeys(path string) (auth.KeysFile, error) {
	if path == "" {
		return auth.KeysFile{}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return auth.KeysFile{}, fmt.Errorf("config file: %w", err)
	}
	kf, err := auth.ParseKeysFile(b)
	if err != nil {
		return auth.KeysFile{}, fmt.Errorf("config file %s: %w", path, err)
	}
	return kf, nil
}
