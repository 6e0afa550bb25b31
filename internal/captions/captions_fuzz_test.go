package captions

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzParse holds that any file is either refused with an *Error, or read
// into cues that are ordered and each end after they start, written as
// UTF-8 WebVTT that reads back to the same cues and is written the same.
func FuzzParse(f *testing.F) {
	f.Add([]byte("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello\n"))
	f.Add([]byte("1\r\n00:00:01,000 --> 00:00:02,000\r\n<i>Hi</i> & bye\r\n"))
	f.Add([]byte("WEBVTT\n\nSTYLE\n::cue {}\n\nid\n01:00.000 --> 01:01.000 align:start\nx\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Line < 0 {
				t.Fatalf("Parse error %v is not an *Error with a line", err)
			}
			return
		}
		for i, cue := range c.Cues {
			if cue.End <= cue.Start || i > 0 && cue.Start < c.Cues[i-1].Start {
				t.Fatalf("cue %d %+v out of order", i, cue)
			}
		}
		out := c.WebVTT()
		if !utf8.Valid(out) {
			t.Fatalf("WebVTT is not UTF-8: %q", out)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("the WebVTT written does not read back: %v\n%s", err, out)
		}
		if len(again.Cues) != len(c.Cues) {
			t.Fatalf("read back %d cues, wrote %d", len(again.Cues), len(c.Cues))
		}
		if !bytes.Equal(again.WebVTT(), out) {
			t.Fatalf("written twice differs:\n%s\n%s", out, again.WebVTT())
		}
	})
}
