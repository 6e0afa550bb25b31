package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/platform"
)

func migrate(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	var c config.Backends
	if err := config.Load(&c); err != nil {
		return err
	}
	if err := c.Check(); err != nil {
		return err
	}
	if c.Metadata == "postgres" {
		if err := ensureDatabase(ctx, string(c.Postgres.URL)); err != nil {
			return err
		}
	} else if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	_, closeStore, err := platform.OpenStore(ctx, c, true)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := closeStore(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(stderr, "%s schema is up to date\n", c.Metadata)
	return nil
}

// ensureDatabase creates the database the URL names when the server does
// not have it yet, so a fresh PostgreSQL needs no manual step.
func ensureDatabase(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("PostgreSQL URL: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		return conn.Close(ctx)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // invalid_catalog_name
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL to create database %s: %w", name, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // created meanwhile
			return nil
		}
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}
