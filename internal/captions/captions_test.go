package captions

import (
	"bytes"
	"strings"
	"testing"
)

func TestConvertSRT(t *testing.T) {
	srt := "\uFEFF1\r\n00:00:01,000 --> 00:00:04,500\r\nHello <i>there</i> & <font color=\"red\">you</font>\r\n{\\an8}up here\r\n\r\n2\r\n0:00:05.250 --> 00:01:02,003\r\nSecond\r\n"
	got, err := Convert([]byte(srt))
	if err != nil {
		t.Fatal(err)
	}
	want := "WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.500\nHello <i>there</i> &amp; you\nup here\n\n2\n00:00:05.250 --> 00:01:02.003\nSecond\n"
	if string(got) != want {
		t.Fatalf("Convert =\n%s\nwant\n%s", got, want)
	}
}

func TestWebVTTKeepsItsBlocks(t *testing.T) {
	vtt := "WEBVTT - a title\nKind: captions\n\nSTYLE\n::cue { color: yellow }\n\nNOTE made by hand\n\nintro\n01:02.500 --> 01:03.000 line:0 align:start\n<v Ada>Hi\n\n01:03.000 --> 01:00:00.000\nLast\n"
	c, err := Parse([]byte(vtt))
	if err != nil {
		t.Fatal(err)
	}
	if c.Format != WebVTT || len(c.Cues) != 2 || c.Cues[0].ID != "intro" || c.Cues[0].Settings != "line:0 align:start" || c.Cues[1].End != 3_600_000 {
		t.Fatalf("Parse = %+v", c)
	}
	want := "WEBVTT\n\nSTYLE\n::cue { color: yellow }\n\nNOTE made by hand\n\nintro\n00:01:02.500 --> 00:01:03.000 line:0 align:start\n<v Ada>Hi\n\n00:01:03.000 --> 01:00:00.000\nLast\n"
	if got := string(c.WebVTT()); got != want {
		t.Fatalf("WebVTT =\n%s\nwant\n%s", got, want)
	}
	// What was written reads back the same.
	again, err := Convert(c.WebVTT())
	if err != nil || !bytes.Equal(again, c.WebVTT()) {
		t.Fatalf("converting the output again = %q, %v", again, err)
	}
}

func TestRefusalsNameTheLine(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		line       int
		says       string
	}{
		{"ends before it starts", "WEBVTT\n\n00:00:05.000 --> 00:00:04.000\nx\n", 3, "ends (00:00:04.000) before it starts (00:00:05.000)"},
		{"ends as it starts", "1\n00:00:05,000 --> 00:00:05,000\nx\n", 2, "ends"},
		{"out of order", "WEBVTT\n\n00:00:05.000 --> 00:00:06.000\na\n\n00:00:04.000 --> 00:00:07.000\nb\n", 6, "before the cue above it"},
		{"minutes past 59", "WEBVTT\n\n00:60:00.000 --> 01:00:01.000\nx\n", 3, "start time"},
		{"two-digit milliseconds", "1\n00:00:01,00 --> 00:00:02,000\nx\n", 2, "start time"},
		{"comma in WebVTT", "WEBVTT\n\n00:00:01,000 --> 00:00:02.000\nx\n", 3, "start time"},
		{"bad end", "WEBVTT\n\n00:00:01.000 --> soon\nx\n", 3, "end time \"soon\""},
		{"no timing", "WEBVTT\n\nhello\n", 3, "expected a cue timing"},
		{"missing blank line", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\na\n00:00:03.000 --> 00:00:04.000\nb\n", 5, "-->"},
		{"srt number", "1\n00:00:01,000 --> 00:00:02,000\na\n\nx\n00:00:03,000 --> 00:00:04,000\n", 5, "cue number"},
		{"neither format", "<html>\n<body>\n", 1, "neither WebVTT"},
		{"not UTF-8", "1\n00:00:01,000 --> 00:00:02,000\ncaf\xe9\n", 3, "UTF-8"},
		{"header runs into a cue", "WEBVTT\n00:00:01.000 --> 00:00:02.000\nx\n", 2, "blank line"},
		{"style after cues", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nx\n\nSTYLE\n::cue {}\n", 6, "before the first cue"},
		{"no cues", "WEBVTT\n\nNOTE nothing here\n", 0, "no cues"},
		{"empty", "", 0, "no cues"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.file))
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("Parse = %v, want an *Error", err)
			}
			if e.Line != tc.line || !strings.Contains(e.Error(), tc.says) {
				t.Fatalf("Parse = %q (line %d), want line %d saying %q", e, e.Line, tc.line, tc.says)
			}
		})
	}
}

func TestSizeLimit(t *testing.T) {
	big := "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n" + strings.Repeat("x", MaxBytes) + "\n"
	if _, err := Parse([]byte(big)); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Fatalf("Parse of %d bytes = %v, want a refusal of its size", len(big), err)
	}
}

func TestMediaPlaylist(t *testing.T) {
	got := string(MediaPlaylist(12.5, "en.vtt"))
	want := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:13\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:12.500,\nen.vtt\n#EXT-X-ENDLIST\n"
	if got != want {
		t.Fatalf("MediaPlaylist =\n%s\nwant\n%s", got, want)
	}
}
