package cli

import (
	"context"
	"fmt"
	"io"

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
	if err := platform.Migrate(ctx, c); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(stderr, "%s schema is up to date\n", c.Metadata)
	return nil
}
