// Package cli is the cloudflix command line: serve, migrate, backup,
// restore, admin, catalogue, upload, loadtest, env and version. It parses
// flags, loads configuration and hands over to the services; it holds no
// platform logic of its own.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cloudflix/cloudflix"
	"github.com/cloudflix/cloudflix/internal/config"
)

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// ExitCode is the process exit code for an error Run returned.
func ExitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

const usage = `usage: cloudflix <command> [flags]

commands:
  serve    run platform targets: --target=all|router|upload|host|search|encode|account (comma lists allowed)
  migrate  create or update the PostgreSQL schema
  backup   copy an install on SQLite and local storage while it runs: cloudflix backup DIR
  restore  bring a backup back into an empty data folder: cloudflix restore [--overwrite] DIR
  admin    manage users in the metadata store: create-user, set-role, set-quota
  catalogue  fill the metadata store with synthetic ready videos: catalogue generate --videos N
  login    sign in and keep an API token: cloudflix login --server URL
  logout   forget the kept token: cloudflix logout --server URL
  upload   upload a video: cloudflix upload --server URL --title TITLE FILE
  loadtest measure a running platform under a read load: cloudflix loadtest --server URL
  env      list the CLOUDFLIX_* configuration variables with their defaults
  version  print the version
`

// Run runs the command in args.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(ctx, rest, stderr)
	case "migrate":
		return migrate(ctx, rest, stderr)
	case "backup":
		return backup(ctx, rest, stderr)
	case "restore":
		return restore(ctx, rest, stderr)
	case "admin":
		return admin(ctx, rest, os.Stdin, stdout, stderr)
	case "catalogue":
		return catalogueCmd(ctx, rest, stdout, stderr)
	case "login":
		return login(ctx, rest, os.Stdin, stdout, stderr)
	case "logout":
		return logout(rest, stdout, stderr)
	case "upload":
		return upload(ctx, rest, stdout, stderr)
	case "loadtest":
		return loadTest(ctx, rest, stdout, stderr)
	case "env":
		return env(stdout)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "cloudflix", cloudflix.Version)
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}

func env(stdout io.Writer) error {
	vars := config.Variables(&config.Process{}, &config.Backends{}, &config.Router{}, &config.Upload{}, &config.Host{}, &config.Search{}, &config.Encode{}, &config.Account{})
	for _, v := range vars {
		def := v.Default
		if v.Secret && def != "" {
			def = "(set a secret)"
		}
		fmt.Fprintf(stdout, "%s=%s\n\t%s\n", v.Name, def, v.Help)
	}
	return nil
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("cloudflix "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags and turns flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}
