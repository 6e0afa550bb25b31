package storetest

import (
	"context"
	"flag"
	"testing"
	"time"

	synthetic "github.com/cloudflix/cloudflix/internal/catalogue"
	"github.com/cloudflix/cloudflix/internal/video"
)

var catalogueSize = flag.Int("store.catalogue", 2000, "videos in the catalogue BenchmarkSearch reads")

// importBatch is how many videos the benchmarks import in one transaction,
// as `cloudflix catalogue generate` does by default.
const importBatch = 5000

// BenchImportVideos times importing a catalogue of b.N videos into a fresh
// store, importBatch a transaction, and reports videos/s. Making the videos
// is not timed.
func BenchImportVideos(b *testing.B, open func(b *testing.B) Store) {
	s := open(b)
	ctx := context.Background()
	g := synthetic.New(1, b.N, "", time.Now().UTC(), time.Second)
	batches := make([][]video.Video, 0, b.N/importBatch+1)
	for g.Left() > 0 {
		batches = append(batches, g.Batch(importBatch))
	}
	b.ResetTimer()
	for _, vs := range batches {
		if err := s.ImportVideos(ctx, vs); err != nil {
			b.Fatalf("ImportVideos: %v", err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "videos/s")
}

// BenchSearch times searches, suggestions and the first page of the latest
// list in a catalogue of -store.catalogue videos, by kind of query. Each
// iteration asks the next of a pool of distinct queries of its kind, as
// many people typing different things do. settle, when not nil, runs once
// the catalogue is in: what the database does on its own after a bulk load
// (PostgreSQL's autovacuum analyzing the tables), done now.
func BenchSearch(b *testing.B, open func(b *testing.B) Store, settle func(b *testing.B)) {
	s := open(b)
	ctx := context.Background()
	g := synthetic.New(1, *catalogueSize, "", time.Now().UTC(), time.Minute)
	for g.Left() > 0 {
		if err := s.ImportVideos(ctx, g.Batch(importBatch)); err != nil {
			b.Fatalf("ImportVideos: %v", err)
		}
	}
	if settle != nil {
		settle(b)
	}
	for _, k := range queryKinds() {
		b.Run(k.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				q := k.queries[i%len(k.queries)]
				var err error
				if k.suggest {
					_, err = s.Suggest(ctx, q, 8)
				} else {
					_, err = s.Search(ctx, q, 21, 0)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("latest-page", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.LatestVideos(ctx, 21, video.ListPosition{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type queryKind struct {
	name    string
	suggest bool
	queries []string
}

// queryKinds are the kinds of query BenchSearch times, each with its pool
// drawn from the catalogue's vocabulary (rank 0 the most common word).
func queryKinds() []queryKind {
	words := func(from, to int) []string {
		var out []string
		for r := from; r < to; r++ {
			out = append(out, synthetic.Word(r))
		}
		return out
	}
	prefixes := func(n int) []string {
		seen := map[string]bool{}
		var out []string
		for r := 0; len(out) < 50 && r < synthetic.VocabularySize; r++ {
			w := synthetic.Word(r)
			if len(w) > n && !seen[w[:n]] {
				seen[w[:n]] = true
				out = append(out, w[:n])
			}
		}
		return out
	}
	// A typo swaps two letters in the middle of a word of six letters or
	// more, a little down the vocabulary.
	var typos []string
	for r := 200; len(typos) < 50; r++ {
		w := []byte(synthetic.Word(r))
		if len(w) >= 6 && w[2] != w[3] {
			w[2], w[3] = w[3], w[2]
			typos = append(typos, string(w))
		}
	}
	var pairs, typed []string
	for i, w := range words(0, 50) {
		pairs = append(pairs, w+" "+synthetic.Word(100+i*7))
		typed = append(typed, w+" "+synthetic.Word(20 + i)[:2])
	}
	return []queryKind{
		{name: "common-word", queries: words(0, 20)},
		{name: "rare-word", queries: words(3000, 3100)},
		{name: "2-letter-prefix", queries: prefixes(2)},
		{name: "3-letter-prefix", queries: prefixes(3)},
		{name: "typo", queries: typos},
		{name: "two-words", queries: pairs},
		{name: "suggest-2-letters", suggest: true, queries: prefixes(2)},
		{name: "suggest-3-letters", suggest: true, queries: prefixes(3)},
		{name: "suggest-word-and-prefix", suggest: true, queries: typed},
	}
}
