package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cloudflix/cloudflix"
)

// Migrate brings the database o.URL names up to date, as a deploy step does
// before services open it: it creates the database when the server does not
// have it yet, so that a fresh server needs no manual step, then applies the
// schema (Store.Migrate).
func Migrate(ctx context.Context, o Options) error {
	s, err := Open(ctx, o)
	if isMissingDatabase(err) {
		if err := createDatabase(ctx, o.URL); err != nil {
			return err
		}
		s, err = Open(ctx, o)
	}
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Migrate(ctx)
}

// Migrate applies cloudflix.Schema in one transaction, which first takes an
// advisory lock: processes migrating one database at once apply it one after
// another instead of racing on DDL.
func (s *Store) Migrate(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrateLockKey)); err != nil {
			return err
		}
		// No arguments: pgx sends it with the simple protocol, which runs
		// a multi-statement script.
		_, err := tx.Exec(ctx, cloudflix.Schema)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	return nil
}

// isMissingDatabase reports whether err is the server refusing a connection
// to a database it does not have.
func isMissingDatabase(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "3D000" // invalid_catalog_name
}

// createDatabase creates the database url names, connecting to the server's
// maintenance database "postgres" to do so. Another process creating it
// meanwhile is no error.
func createDatabase(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("pgstore: parse url: %w", err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("pgstore: connect to create database %s: %w", name, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database
			return nil
		}
		return fmt.Errorf("pgstore: create database %s: %w", name, err)
	}
	return nil
}
