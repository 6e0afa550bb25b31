package hostsvc

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cloudflix/cloudflix/internal/video"
)

// FuzzCursor reads any text as a list cursor. What is accepted names a
// position (a video id and a time) that, written as a cursor again, reads
// back as the same position; and every position written reads back as
// itself.
func FuzzCursor(f *testing.F) {
	f.Fuzz(func(t *testing.T, cursor string, id string, unixNano int64) {
		if pos, err := decodeCursor(cursor); err == nil && cursor != "" {
			again, err := decodeCursor(encodeCursor(video.Video{ID: pos.ID, CreatedAt: pos.CreatedAt}))
			if pos.ID == "" || err != nil || again.ID != pos.ID || !again.CreatedAt.Equal(pos.CreatedAt) {
				t.Fatalf("cursor %q read as %+v, written and read again as %+v, %v", cursor, pos, again, err)
			}
		}
		if id == "" || !utf8.ValidString(id) {
			return // video ids are UUIDs
		}
		v := video.Video{ID: id, CreatedAt: time.Unix(0, unixNano).UTC()}
		pos, err := decodeCursor(encodeCursor(v))
		if err != nil || pos.ID != id || !pos.CreatedAt.Equal(v.CreatedAt) {
			t.Fatalf("video %q of %v: cursor %q read as %+v, %v", id, v.CreatedAt, encodeCursor(v), pos, err)
		}
	})
}
