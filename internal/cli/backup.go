package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/cloudflix/cloudflix"
	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/platform"
)

// backup copies the embedded install named by the configuration into a
// new folder, while the platform may be running on it.
func backup(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("backup", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: cloudflix backup DIR\n\ncopies the data folder (CLOUDFLIX_DATA_DIR) of an install on SQLite and local storage into DIR, new or empty, while it runs")
	}
	dir, err := oneFolder(fs, args)
	if err != nil {
		return err
	}
	var c config.Backends
	if err := config.Load(&c); err != nil {
		return err
	}
	if err := c.Check(); err != nil {
		return err
	}
	sum, err := platform.Backup(ctx, c, dir, cloudflix.Version)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "backed up %s into %s: the database and %d files of storage (%d bytes)\n", c.DataDir, dir, sum.Objects, sum.Bytes)
	return nil
}

// restore brings a backup back into the configured data folder.
func restore(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("restore", stderr)
	overwrite := fs.Bool("overwrite", false, "replace the database and storage of a data folder that is not empty")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: cloudflix restore [--overwrite] DIR\n\nrestores the backup in DIR into the data folder (CLOUDFLIX_DATA_DIR), which must be empty unless --overwrite")
		fs.PrintDefaults()
	}
	dir, err := oneFolder(fs, args)
	if err != nil {
		return err
	}
	var c config.Backends
	if err := config.Load(&c); err != nil {
		return err
	}
	if err := c.Check(); err != nil {
		return err
	}
	if err := platform.Restore(ctx, c, dir, *overwrite); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "restored %s into %s\n", dir, c.DataDir)
	return nil
}

// oneFolder parses flags followed by exactly one folder.
func oneFolder(fs *flag.FlagSet, args []string) (string, error) {
	if err := parse(fs, args); err != nil {
		return "", err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return "", usageError{fs.Name() + ": give one folder, after the flags"}
	}
	return fs.Arg(0), nil
}
