package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// The schema is a list of versions, migrations/NNN_name.sql, numbered from
// 1 without gaps. The version a database has reached is its PRAGMA
// user_version, which SQLite keeps in the file's header and changes within
// a transaction like any other write. SQLite has no ADD COLUMN IF NOT
// EXISTS, so a version that alters a table must run exactly once: Migrate
// runs the versions a database lacks and records the last in one write
// transaction, and a process that starts meanwhile waits for it and then
// finds nothing left to do.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations are the versions' SQL, version i+1 at index i.
var migrations = mustLoadMigrations(migrationFiles)

func mustLoadMigrations(fsys fs.FS) []string {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		panic(err)
	}
	out := make([]string, len(names))
	for _, name := range names { // fs.Glob sorts them
		number, _, _ := strings.Cut(path.Base(name), "_")
		n, err := strconv.Atoi(number)
		if err != nil || n < 1 || n > len(names) || out[n-1] != "" {
			panic(fmt.Sprintf("sqlitestore: migration %s: versions must be numbered 1 to %d, once each", name, len(names)))
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			panic(err)
		}
		out[n-1] = string(b)
	}
	return out
}

// Migrate brings the database file at o.Path up to date, creating it, and
// the folder it is in, when missing; then it closes the file. It is the
// counterpart of pgstore.Migrate, for a caller that opens the store later.
func Migrate(ctx context.Context, o Options) error {
	if err := os.MkdirAll(filepath.Dir(o.Path), 0o755); err != nil {
		return fmt.Errorf("sqlitestore: migrate: %w", err)
	}
	s, err := Open(ctx, o)
	if err != nil {
		return err
	}
	return errors.Join(s.Migrate(ctx), s.Close())
}

// Migrate runs the schema versions the database lacks, in one write
// transaction, so that processes starting together on one file migrate it
// one after another. A file from before versions (user_version 0) has
// version 1's tables already; version 1 is idempotent, so it runs again
// harmlessly. A file of a newer version than this build knows is refused,
// untouched: this build would not know what its tables mean.
func (s *Store) Migrate(ctx context.Context) error {
	return s.migrate(ctx, migrations)
}

// migrate brings the database to the last of versions.
func (s *Store) migrate(ctx context.Context, migrations []string) error {
	err := s.write(ctx, func(tx *sql.Tx, _ int64) error {
		var version int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
			return err
		}
		if version > len(migrations) {
			return fmt.Errorf("the database has schema version %d, newer than this build's %d", version, len(migrations))
		}
		for i := version; i < len(migrations); i++ {
			if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
				return fmt.Errorf("schema version %d: %w", i+1, err)
			}
		}
		if version == len(migrations) {
			return nil
		}
		// A PRAGMA takes no parameters; the number is ours.
		_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations)))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: migrate: %w", err)
	}
	return nil
}
