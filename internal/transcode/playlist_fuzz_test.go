package transcode

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzVariantPlaylist reads any text as a media playlist ffmpeg wrote. It
// is the encoder's own output, but the bit rates of the master playlist
// come from it, so what is accepted must make sense: an init segment and
// media segments that are files beside the playlist, durations that are
// finite and not negative, and the same playlist again when written back.
// Its bit rates are never below zero and the peak never below the average.
func FuzzVariantPlaylist(f *testing.F) {
	f.Fuzz(func(t *testing.T, text []byte) {
		pl, err := parsePlaylist(text)
		if err != nil {
			return
		}
		if !fileName(pl.init) || len(pl.segments) == 0 || pl.targetSeconds < 0 {
			t.Fatalf("accepted %+v", pl)
		}
		for _, s := range pl.segments {
			if !fileName(s.uri) || !finite(s.seconds) || s.seconds < 0 {
				t.Fatalf("accepted segment %+v", s)
			}
		}
		if total := pl.seconds(); !finite(total) || total < 0 {
			t.Fatalf("the playlist lasts %v seconds", total)
		}
		again, err := parsePlaylist([]byte(writePlaylist(pl)))
		if err != nil || again.init != pl.init || again.targetSeconds != pl.targetSeconds || !slices.Equal(again.segments, pl.segments) {
			t.Fatalf("written back and read again: %+v, %v; want %+v", again, err, pl)
		}
		segs := make([]sizedSegment, len(pl.segments))
		for i, s := range pl.segments {
			segs[i] = sizedSegment{bytes: int64(1000 * (i + 1)), duration: time.Duration(s.seconds*1e6) * time.Microsecond}
			if segs[i].duration <= 0 {
				return // bandwidth refuses it
			}
		}
		bw := bitRates(time.Duration(pl.targetSeconds)*time.Second, 800, segs)
		if bw.average <= 0 || bw.peak < bw.average {
			t.Fatalf("bit rates %+v of %+v", bw, pl)
		}
	})
}

// writePlaylist writes pl the way ffmpeg does.
func writePlaylist(pl variantPlaylist) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n", pl.targetSeconds)
	fmt.Fprintf(&b, "#EXT-X-MAP:URI=\"%s\"\n", pl.init)
	for _, s := range pl.segments {
		fmt.Fprintf(&b, "#EXTINF:%s,\n%s\n", strconv.FormatFloat(s.seconds, 'g', -1, 64), s.uri)
	}
	b.WriteString("#EXT-X-ENDLIST\n")
	return b.String()
}
