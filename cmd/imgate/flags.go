package main

import (
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
// "config" (if the FlagSet has one). It returns that file, read once, for
// the command's nested settings (nil when there is none). Every invalid
// value is reported at once as a usageError.
func parseFlags(fs *flag.FlagSet, args []string) (*configFile, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, &usageError{err.Error()}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	problems := fromEnv(fs, set)
	var file *configFile
	if cf := fs.Lookup("config"); cf != nil && cf.Value.String() != "" {
		var err error
		if file, err = readConfigFile(cf.Value.String()); err != nil {
			problems = append(problems, err.Error())
		}
		problems = append(problems, fromFile(fs, set, file)...)
	}
	if fs.NArg() > 0 && fs.Lookup("allow-args") == nil && !argsAllowed[fs.Name()] {
		problems = append(problems, fmt.Sprintf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	if len(problems) > 0 {
		return nil, &usageError{"invalid settings:\n  " + strings.Join(problems, "\n  ")}
	}
	return file, nil
}

// fromEnv sets every flag not in set from its IMGATE_* variable and adds it
// to set.
func fromEnv(fs *flag.FlagSet, set map[string]bool) []string {
	var problems []string
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
	return problems
}

// fromFile sets every flag not in set from the config file; keys that are
// neither flags nor nested settings are errors.
func fromFile(fs *flag.FlagSet, set map[string]bool, file *configFile) []string {
	if file == nil {
		return nil
	}
	var problems []string
	keys := make([]string, 0, len(file.raw))
	for k := range file.raw {
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
		if err := f.Value.Set(file.flagValue(k)); err != nil {
			problems = append(problems, fmt.Sprintf("config file: %s=%q: %v", k, file.flagValue(k), err))
		}
	}
	return problems
}

// argsAllowed names commands that take positional arguments.
var argsAllowed = map[string]bool{"resize": true}

// configOnlyKeys are config-file keys that are not flags (read by the command itself).
var configOnlyKeys = map[string]bool{"sizes": true, "formats": true, "presets": true, "keys": true, "api_keys": true}
