package transcode

import (
	"strings"
	"testing"
)

// FuzzPacketTimeline reads any text as ffprobe's packet lines of a source.
// A source's timestamps can be anything its muxer wrote, but what the
// timeline makes of them stays a count of the packet lines and finite,
// non-negative spans that the duration limits can judge.
func FuzzPacketTimeline(f *testing.F) {
	f.Fuzz(func(t *testing.T, lines string, fps float64, jumps bool) {
		var frameSeconds float64
		if fps > 0 {
			frameSeconds = 1 / fps
		}
		tl := newTimeline(frameSeconds, jumps)
		var packets int64
		for line := range strings.Lines(lines) {
			if tl.add(strings.TrimRight(line, "\r\n")) {
				packets++
			}
		}
		s := tl.scan()
		switch {
		case s.frames != packets:
			t.Fatalf("%d frames counted of %d packets", s.frames, packets)
		case !finite(s.span) || s.span < 0:
			t.Fatalf("span %v", s.span)
		case !finite(s.playable) || s.playable < 0:
			t.Fatalf("playable %v", s.playable)
		case !finite(s.playFirst):
			t.Fatalf("play starts at %v", s.playFirst)
		}
	})
}
