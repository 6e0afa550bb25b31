package router

import (
	"log/slog"
	"net/http"
	"testing"
)

// discardLogger keeps the expected 5xx of error-mapping tests out of the
// test output.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// testMediaKey signs media links in tests.
var testMediaKey = []byte("the edge's media link key in tests")

// edge builds the edge for a test, with a media key when the test gives
// none.
func edge(t testing.TB, o Options) http.Handler {
	t.Helper()
	if o.MediaKey == nil {
		o.MediaKey = testMediaKey
	}
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
