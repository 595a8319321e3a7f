package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/imgate/imgate/gateway/auth"
	"github.com/imgate/imgate/resizer"
)

// Defaults shared by several commands, written once.
const (
	defaultDataDir = "./imgate-data"  // serve's --data; where admin looks for secrets.json
	defaultListen  = "127.0.0.1:8080" // serve's --listen; admin's --url is http:// + this
)

// configFile is the --config JSON file, read and parsed once: its flat keys
// fill flags (parseFlags), its nested keys ("sizes", "presets", "keys",
// "api_keys") are read by the commands from the same parse.
type configFile struct {
	path string
	data []byte                     // the file as read
	raw  map[string]json.RawMessage // its top-level keys
}

// readConfigFile reads and parses path; it must hold a JSON object.
func readConfigFile(path string) (*configFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("config file %s: not a JSON object: %w", path, err)
	}
	return &configFile{path: path, data: b, raw: raw}, nil
}

// has reports whether the file sets key (a nil file sets nothing).
func (c *configFile) has(key string) bool {
	if c == nil {
		return false
	}
	_, ok := c.raw[key]
	return ok
}

// flagValue returns key's value in a flag's string form: a JSON string
// unquoted, any other JSON value as its text (5, true, ["a","b"]).
func (c *configFile) flagValue(key string) string {
	v := c.raw[key]
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s
	}
	var list []string // list flags (--cors-origins, --allowed-types) as a JSON array
	if err := json.Unmarshal(v, &list); err == nil {
		return strings.Join(list, ",")
	}
	return strings.TrimSpace(string(v))
}

// presets returns the file's "sizes" and "presets" (nil when it has
// neither).
func (c *configFile) presets() ([]resizer.Preset, error) {
	if !c.has("sizes") && !c.has("presets") {
		return nil, nil
	}
	ps, err := resizer.ParseConfig(c.data)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", c.path, err)
	}
	return ps, nil
}

// presetList returns the file's "presets" only (resize takes its sizes
// from the --sizes flag, which the file's "sizes" fills).
func (c *configFile) presetList() ([]resizer.Preset, error) {
	if !c.has("presets") {
		return nil, nil
	}
	wrapped, err := json.Marshal(map[string]json.RawMessage{"presets": c.raw["presets"]})
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", c.path, err)
	}
	ps, err := resizer.ParseConfig(wrapped)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", c.path, err)
	}
	return ps, nil
}

// keys returns the optional "keys" and "api_keys" arrays of the file: extra
// static S3 key pairs and /v1 API keys, each limited to a key prefix of
// NAME-original.
//
//	{"keys":     [{"access_key": "app1", "secret_key": "…", "prefix": "users/app1/"}],
//	 "api_keys": [{"name": "web", "key": "…", "prefix": "uploads/web/"}]}
func (c *configFile) keys() (auth.KeysFile, error) {
	if c == nil {
		return auth.KeysFile{}, nil
	}
	kf, err := auth.ParseKeysFile(c.data)
	if err != nil {
		return auth.KeysFile{}, fmt.Errorf("config file %s: %w", c.path, err)
	}
	return kf, nil
}
