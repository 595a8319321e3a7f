package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// errHelp is returned when --help was asked; main exits 0.
var errHelp = errors.New("help requested")

// newFlagSet returns a FlagSet whose usage text names the command and says
// where else each flag can come from.
func newFlagSet(name, synopsis, description string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: imgate %s %s\n\n%s\n\nFlags (each also from env IMGATE_<FLAG>, or a key of the --config JSON file; command line wins, then env, then file):\n", name, synopsis, description)
		fs.PrintDefaults()
	}
	return fs
}

// envName maps a flag name to its environment variable: max-upload-bytes → IMGATE_MAX_UPLOAD_BYTES.
func envName(flagName string) string {
	return "IMGATE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags parses args, then fills every flag not given on the command line
// from the environment and then from the JSON config file named by the flag
// "config" (if the FlagSet has one). Every invalid value is reported at once
// as a usageError.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return &usageError{err.Error()}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var problems []string
	// Environment.
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if err := f.Value.Set(v); err != nil {
				problems = append(problems, fmt.Sprintf("%s=%q: %v", envName(f.Name), v, err))
			}
			set[f.Name] = true
		}
	})
	// Config file.
	if cf := fs.Lookup("config"); cf != nil && cf.Value.String() != "" {
		file, err := loadConfigFile(cf.Value.String())
		if err != nil {
			problems = append(problems, err.Error())
		}
		keys := make([]string, 0, len(file))
		for k := range file {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			f := fs.Lookup(k)
			if f == nil {
				if !configOnlyKeys[k] {
					problems = append(problems, fmt.Sprintf("config file: unknown setting %q", k))
				}
				continue
			}
			if set[k] {
				continue
			}
			if err := f.Value.Set(file[k]); err != nil {
				problems = append(problems, fmt.Sprintf("config file: %s=%q: %v", k, file[k], err))
			}
		}
	}
	if fs.NArg() > 0 && fs.Lookup("allow-args") == nil && !argsAllowed[fs.Name()] {
		problems = append(problems, fmt.Sprintf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	if len(problems) > 0 {
		return &usageError{"invalid settings:\n  " + strings.Join(problems, "\n  ")}
	}
	return nil
}

// argsAllowed names commands that take positional arguments.
var argsAllowed = map[string]bool{"resize": true}

// configOnlyKeys are config-file keys that are not flags (read by the command itself).
var configOnlyKeys = map[string]bool{"sizes": true, "presets": true, "keys": true, "api_keys": true}

// loadConfigFile reads a flat JSON object; values of any JSON type are turned
// into the flag's string form. Nested values (sizes, presets, keys) are kept
// as raw JSON text for the command to read.
func loadConfigFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("config file %s: not a JSON object: %w", path, err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			out[k] = s
			continue
		}
		out[k] = strings.TrimSpace(string(v))
	}
	return out, nil
}
