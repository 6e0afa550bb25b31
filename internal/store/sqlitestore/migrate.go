package sqlitestore

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// schema is sqlite_schema.sql; applying it is idempotent.
//
//go:embed sqlite_schema.sql
var schema string

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

// Migrate applies the embedded schema in one write transaction, so that
// processes starting together on one file apply it one after another.
func (s *Store) Migrate(ctx context.Context) error {
	err := s.write(ctx, func(tx *sql.Tx, _ int64) error {
		_, err := tx.ExecContext(ctx, schema)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: migrate: %w", err)
	}
	return nil
}
