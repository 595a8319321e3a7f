package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/imgate/imgate/gateway/auth"
)

// loadStaticKeys reads the optional "keys" array of the --config file: extra
// static S3 key pairs, each limited to a key prefix of NAME-original.
//
//	{"keys": [{"access_key": "app1", "secret_key": "…", "prefix": "users/app1/"}]}
func loadStaticKeys(path string) ([]auth.StaticKey, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	var cfg struct {
		Keys []auth.StaticKey `json:"keys"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("config file %s: \"keys\": %w", path, err)
	}
	for i, k := range cfg.Keys {
		if k.AccessKey == "" || len(k.SecretKey) < 8 {
			return nil, fmt.Errorf("config file %s: keys[%d]: access_key and a secret_key of at least 8 characters are required", path, i)
		}
	}
	return cfg.Keys, nil
}
