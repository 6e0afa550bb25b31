package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudflix/cloudflix/internal/catalogue"
	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
)

// The catalogue fills either metadata store with ready videos that search
// and the latest list find, owned by a user it makes.
func TestCatalogueOnBothMetadataStores(t *testing.T) {
	for _, metadata := range []string{"sqlite", "postgres"} {
		t.Run(metadata, func(t *testing.T) {
			env := map[string]string{"CLOUDFLIX_METADATA": metadata, "CLOUDFLIX_DATA_DIR": filepath.Join(t.TempDir(), "data")}
			if metadata == "postgres" {
				env["CLOUDFLIX_POSTGRES_URL"] = testenv.Postgres(t)
				if _, _, err := run(t, env, "migrate"); err != nil {
					t.Fatal(err)
				}
			}
			out, progress, err := run(t, env, "catalogue", "generate", "--videos", "1200", "--seed", "5", "--batch", "500")
			if err != nil || !strings.HasPrefix(out, "imported 1200 videos owned by catalogue in ") {
				t.Fatalf("catalogue generate: %q %v", out, err)
			}
			if !strings.Contains(progress, "imported 500 of 1200 videos") || !strings.Contains(progress, "imported 1200 of 1200 videos") {
				t.Fatalf("progress: %q", progress)
			}
			// The same seed makes the same ids, which the store refuses;
			// another seed adds another catalogue for the same owner.
			if _, _, err := run(t, env, "catalogue", "generate", "--videos", "10", "--seed", "5"); err == nil || !strings.Contains(err.Error(), "already exists") {
				t.Fatalf("the same seed again: %v, want the videos refused as existing", err)
			}
			if out, _, err := run(t, env, "catalogue", "generate", "--videos", "300", "--seed", "6"); err != nil || !strings.HasPrefix(out, "imported 300 videos") {
				t.Fatalf("another seed: %q %v", out, err)
			}

			for k, v := range env {
				t.Setenv(k, v)
			}
			var b config.Backends
			if err := config.Load(&b); err != nil {
				t.Fatal(err)
			}
			db, closeStore, err := platform.OpenStore(t.Context(), b)
			if err != nil {
				t.Fatal(err)
			}
			defer closeStore()
			owner, err := db.UserByName(t.Context(), "catalogue")
			if err != nil {
				t.Fatalf("the catalogue's owner: %v", err)
			}
			latest, err := db.LatestVideos(t.Context(), 5, video.ListPosition{})
			if err != nil || len(latest) != 5 {
				t.Fatalf("LatestVideos = %d videos, %v", len(latest), err)
			}
			for _, v := range latest {
				if v.State != video.StateReady || v.OwnerID != owner.ID || len(v.Renditions) == 0 {
					t.Fatalf("a catalogue video: %+v", v)
				}
			}
			hits, err := db.Search(t.Context(), catalogue.Word(0), 10, 0)
			if err != nil || len(hits) != 10 {
				t.Fatalf("Search(%q) = %d hits, %v; want a full page", catalogue.Word(0), len(hits), err)
			}
		})
	}
}

func TestCatalogueUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"catalogue"},
		{"catalogue", "make"},
		{"catalogue", "generate"},
		{"catalogue", "generate", "--videos", "0"},
		{"catalogue", "generate", "--videos", "10", "--batch", "0"},
		{"catalogue", "generate", "--videos", "10", "--seed", "-1"},
	} {
		if _, _, err := run(t, map[string]string{"CLOUDFLIX_DATA_DIR": t.TempDir()}, args...); err == nil || ExitCode(err) != 2 {
			t.Errorf("cloudflix %v: %v, want a usage error", args, err)
		}
	}
}
