package pgstore

import (
	"testing"

	"github.com/cloudflix/cloudflix/internal/store/storetest"
)

// BenchmarkSearch times search, suggestions and the latest list by kind of
// query in a catalogue of -store.catalogue videos (2,000 unless told), e.g.
//
//	go test -run '^$' -bench Search -timeout 1h ./internal/store/pgstore -args -store.catalogue=100000
func BenchmarkSearch(b *testing.B) {
	var s *Store
	storetest.BenchSearch(b, func(b *testing.B) storetest.Store {
		s = open(b, Options{})
		return s
	}, func(b *testing.B) {
		// What autovacuum does a while after a bulk load: the statistics
		// the planner's choice of index depends on.
		if _, err := s.pool.Exec(testCtx(b), "VACUUM ANALYZE videos, search_words"); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkImportVideos times importing b.N catalogue videos, e.g.
//
//	go test -run '^$' -bench ImportVideos -benchtime 100000x ./internal/store/pgstore
func BenchmarkImportVideos(b *testing.B) {
	storetest.BenchImportVideos(b, func(b *testing.B) storetest.Store { return open(b, Options{}) })
}
