// Command imgate is a self-hosted, S3-compatible upload gateway that resizes
// images the moment they land. main only parses arguments, wires packages
// together and maps errors to exit codes; each subcommand lives in its own file.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand: a one-line summary and its Run function.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands is filled by each subcommand file's init function.
var commands = map[string]command{}

func register(name, summary string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	commands[name] = command{summary: summary, run: run}
}

// usageError makes main exit with code 2 (bad invocation or settings).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "imgate: unknown command %q\n\n", args[0])
		printUsage(stderr)
		return 2
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	var ue *usageError
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "imgate %s: %s\n", args[0], ue.msg)
		return 2
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintf(stderr, "imgate %s: %s\n", args[0], ee.msg)
		}
		return ee.code
	default:
		fmt.Fprintf(stderr, "imgate %s: %v\n", args[0], err)
		return 1
	}
}

// exitError carries a specific exit code (e.g. 1 when some files failed).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "imgate — S3-compatible upload gateway that resizes images as they land")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: imgate <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'imgate <command> --help' for the flags of a command.")
	fmt.Fprintln(w, "Every flag can also be set with an IMGATE_<FLAG> environment variable")
	fmt.Fprintln(w, "(e.g. --max-upload-bytes → IMGATE_MAX_UPLOAD_BYTES) or in a JSON --config file.")
}
