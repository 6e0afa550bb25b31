package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
)

// Snapshot writes a copy of the database at o.Path to the new file dst, as
// one read transaction sees it, while other connections (in this process
// or another) go on reading and writing: VACUUM INTO reads a consistent
// view under WAL and writes a compact, self-contained file (no -wal or
// -shm beside it). dst must not exist. The database must: a missing file
// is an error, never created.
func Snapshot(ctx context.Context, o Options, dst string) error {
	if _, err := os.Stat(o.Path); err != nil {
		return fmt.Errorf("sqlitestore: snapshot: %w", err)
	}
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("sqlitestore: snapshot: %s already exists", dst)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sqlitestore: snapshot: %w", err)
	}
	// Not query_only, which refuses VACUUM INTO; the statement changes
	// nothing in the database it reads.
	db, err := sql.Open("sqlite", fmt.Sprintf("%s?_pragma=busy_timeout(%d)", fileURI(o.Path), busyTimeout.Milliseconds()))
	if err != nil {
		return fmt.Errorf("sqlitestore: snapshot %s: %w", o.Path, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		os.Remove(dst)
		return fmt.Errorf("sqlitestore: snapshot %s into %s: %w", o.Path, dst, err)
	}
	return nil
}

// IntegrityCheck reports whether the database file at path is whole, as
// SQLite's integrity_check finds it, without changing it.
func IntegrityCheck(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("sqlitestore: integrity check: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return fmt.Errorf("sqlitestore: integrity check %s: %w", path, err)
	}
	defer db.Close()
	var result string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&result); err != nil {
		return fmt.Errorf("sqlitestore: integrity check %s: %w", path, err)
	}
	if result != "ok" {
		return fmt.Errorf("sqlitestore: %s is damaged: %s", path, result)
	}
	return nil
}
