package sqlitestore

import (
	"path/filepath"
	"testing"

	"github.com/cloudflix/cloudflix/internal/store/storetest"
)

// BenchmarkSearch times search, suggestions and the latest list by kind of
// query in a catalogue of -store.catalogue videos (2,000 unless told), e.g.
//
//	go test -run '^$' -bench Search -timeout 1h ./internal/store/sqlitestore -args -store.catalogue=100000
func BenchmarkSearch(b *testing.B) {
	storetest.BenchSearch(b, func(b *testing.B) storetest.Store { return openAt(b, filepath.Join(b.TempDir(), "cloudflix.db")) }, nil)
}

// BenchmarkImportVideos times importing b.N catalogue videos, e.g.
//
//	go test -run '^$' -bench ImportVideos -benchtime 100000x ./internal/store/sqlitestore
func BenchmarkImportVideos(b *testing.B) {
	storetest.BenchImportVideos(b, func(b *testing.B) storetest.Store { return openAt(b, filepath.Join(b.TempDir(), "cloudflix.db")) })
}
