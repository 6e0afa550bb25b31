package searchsvc

import "testing"

// FuzzCursor reads any text as a page cursor. One is accepted only as this
// service wrote it: an offset within maxOffset whose cursor, written
// again, is the same text, so that each page has one cursor.
func FuzzCursor(f *testing.F) {
	f.Fuzz(func(t *testing.T, cursor string) {
		n, err := decodeOffset(cursor)
		if err != nil || cursor == "" {
			return
		}
		if n < 0 || n > maxOffset || encodeOffset(n) != cursor {
			t.Fatalf("cursor %q read as offset %d, which is written %q", cursor, n, encodeOffset(n))
		}
	})
}
