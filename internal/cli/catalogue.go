package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/catalogue"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

const catalogueUsage = `usage: cloudflix catalogue generate --videos N [--seed N] [--owner NAME] [--batch N]

Fills the metadata store the CLOUDFLIX_* variables name (like migrate and
admin) with N synthetic READY public videos: titles, tags and descriptions
whose words follow Zipf's law, renditions as a finished encode leaves them,
views, and one creation time a minute up to now. The same seed makes the
same videos (and ids: generating them twice into one store is refused). The
videos belong to the user --owner, made without a password when missing.
No media is stored: they are for trying and measuring search and lists at
scale. On PostgreSQL run migrate first.
`

// The catalogue's defaults: its owner, and how many videos go into one
// transaction.
const (
	defaultCatalogueOwner = "catalogue"
	defaultCatalogueBatch = 5000
	maxCatalogueBatch     = 100_000
)

func catalogueCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, catalogueUsage)
		return usageError{"no catalogue command given"}
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "generate":
		return generateCatalogue(ctx, rest, stdout, stderr)
	case "help", "--help", "-h":
		fmt.Fprint(stdout, catalogueUsage)
		return nil
	default:
		fmt.Fprint(stderr, catalogueUsage)
		return usageError{fmt.Sprintf("unknown catalogue command %q", cmd)}
	}
}

func generateCatalogue(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("catalogue generate", stderr)
	videos := fs.Int("videos", 0, "how many videos to make")
	seed := fs.Uint64("seed", 1, "seed of the catalogue: the same seed makes the same videos")
	owner := fs.String("owner", defaultCatalogueOwner, "username of the videos' owner, made when missing")
	batch := fs.Int("batch", defaultCatalogueBatch, "videos imported in one transaction")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *videos <= 0:
		return usageError{"catalogue generate needs --videos N, N at least 1"}
	case *batch <= 0 || *batch > maxCatalogueBatch:
		return usageError{fmt.Sprintf("--batch must be from 1 to %d", maxCatalogueBatch)}
	}
	return withStore(ctx, func(db store.Store) error {
		u, err := catalogueOwner(ctx, db, *owner)
		if err != nil {
			return err
		}
		g := catalogue.New(*seed, *videos, u.ID, time.Now().UTC().Truncate(time.Minute), time.Minute)
		start := time.Now()
		done, err := importCatalogue(ctx, db, g, *batch, func(done int) {
			fmt.Fprintf(stderr, "imported %d of %d videos (%.0f videos/s)\n", done, *videos, rate(done, time.Since(start)))
		})
		took := time.Since(start)
		if err != nil {
			return fmt.Errorf("imported %d of %d videos: %w", done, *videos, err)
		}
		fmt.Fprintf(stdout, "imported %d videos owned by %s in %s: %.0f videos/s\n", done, u.Username, took.Round(time.Millisecond), rate(done, took))
		return nil
	})
}

// catalogueOwner is the user named username, made (a user without a
// password, who cannot sign in until an admin gives them one) when there is
// none.
func catalogueOwner(ctx context.Context, db store.Store, username string) (account.User, error) {
	u, err := db.UserByName(ctx, username)
	if errors.Is(err, video.ErrNotFound) {
		u, err = db.CreateUser(ctx, account.User{Username: username}, "")
	}
	if err != nil {
		return account.User{}, fmt.Errorf("owner %q: %w", username, err)
	}
	return u, nil
}

// importCatalogue imports what g makes, batch videos a transaction, making
// the next batch while the store imports one, and reports after each
// batch. It returns how many videos it imported.
func importCatalogue(ctx context.Context, db store.Store, g *catalogue.Generator, batch int, progress func(done int)) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []video.Video, 1)
	go func() {
		defer close(batches)
		for g.Left() > 0 {
			select {
			case batches <- g.Batch(batch):
			case <-ctx.Done():
				return
			}
		}
	}()
	done := 0
	for vs := range batches {
		if err := db.ImportVideos(ctx, vs); err != nil {
			return done, err
		}
		done += len(vs)
		progress(done)
	}
	return done, ctx.Err()
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
