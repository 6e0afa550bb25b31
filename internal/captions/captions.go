// Package captions reads the caption files people upload, WebVTT or SRT,
// checks them line by line and writes them as the WebVTT that HLS players
// read; it also writes the HLS playlists that name a video's captions and
// keeps the stored master playlist in step with them. It must never keep
// a file it could not read whole: a refusal names the line at fault.
package captions

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxBytes is the largest caption file taken. A feature film's captions
// are some 100 KiB; this leaves room for many hours or heavy markup.
const MaxBytes = 2 << 20

// Error is a caption file refused, with the line (from 1) at fault, or 0
// when the fault is the file's as a whole.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

func refuse(line int, format string, args ...any) *Error {
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Format is the kind of caption file that was read.
type Format string

const (
	WebVTT Format = "vtt"
	SRT    Format = "srt"
)

// Cue is one caption: shown from Start to End (milliseconds from the start
// of the video) with its text lines.
type Cue struct {
	ID         string
	Start, End int64
	Settings   string // WebVTT cue settings ("line:0 align:start"), "" for none
	Text       []string
}

// Captions is a caption file as read: its format and its cues, in order of
// start. Header holds the WebVTT blocks before the first cue (STYLE,
// REGION, NOTE) as they were, so that converting back keeps them.
type Captions struct {
	Format Format
	Header []string
	Cues   []Cue
}

// Parse reads a WebVTT or SRT file, told apart by the WEBVTT signature
// WebVTT requires. The text must be UTF-8 (a byte order mark is dropped)
// with cue timings well formed, each cue ending after it starts and no cue
// starting before the one above it. Line endings may be CRLF, LF or CR.
func Parse(b []byte) (Captions, error) {
	if len(b) > MaxBytes {
		return Captions{}, refuse(0, "the file is %d bytes; captions may be at most %d", len(b), MaxBytes)
	}
	b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	lines := splitLines(string(b))
	for i, l := range lines {
		if !utf8.ValidString(l) {
			return Captions{}, refuse(i+1, "not UTF-8 text: save the file as UTF-8")
		}
		if strings.ContainsRune(l, 0) {
			return Captions{}, refuse(i+1, "a NUL character: this is not a text file")
		}
	}
	var c Captions
	var err error
	if isWebVTT(lines) {
		c, err = parseWebVTT(lines)
	} else {
		c, err = parseSRT(lines)
	}
	if err != nil {
		return Captions{}, err
	}
	if len(c.Cues) == 0 {
		return Captions{}, refuse(0, "the file has no cues: give a WebVTT or SRT file with timed captions")
	}
	return c, nil
}

// splitLines cuts text at CRLF, LF or CR, as WebVTT's parser does.
func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Split(s, "\n")
}

func isWebVTT(lines []string) bool {
	first := lines[0]
	return first == "WEBVTT" || strings.HasPrefix(first, "WEBVTT ") || strings.HasPrefix(first, "WEBVTT\t")
}

// blocks groups lines into runs of non-blank lines, each with the number
// (from 1) of its first line. A line of only spaces counts as blank, as
// SRT files written by hand have them.
func blocks(lines []string, from int) [][]numbered {
	var out [][]numbered
	var cur []numbered
	for i := from; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) == "" {
			if cur != nil {
				out = append(out, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, numbered{n: i + 1, text: lines[i]})
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}

type numbered struct {
	n    int
	text string
}

func parseWebVTT(lines []string) (Captions, error) {
	c := Captions{Format: WebVTT}
	// The header's own block (WEBVTT and any metadata lines) ends at the
	// first blank line.
	start := 1
	for start < len(lines) && strings.TrimSpace(lines[start]) != "" {
		if strings.Contains(lines[start], "-->") {
			return Captions{}, refuse(start+1, "a blank line must follow the WEBVTT header before the first cue")
		}
		start++
	}
	for _, blk := range blocks(lines, start) {
		head := blk[0].text
		switch {
		case strings.HasPrefix(head, "NOTE") && (len(head) == 4 || head[4] == ' ' || head[4] == '\t'):
			if len(c.Cues) == 0 {
				c.Header = append(c.Header, joinBlock(blk))
			}
			continue
		case (head == "STYLE" || head == "REGION") && !strings.Contains(joinBlock(blk), "-->"):
			if len(c.Cues) > 0 {
				return Captions{}, refuse(blk[0].n, "a %s block must come before the first cue", head)
			}
			c.Header = append(c.Header, joinBlock(blk))
			continue
		}
		var cue Cue
		timing := blk[0]
		rest := blk[1:]
		if !strings.Contains(timing.text, "-->") {
			if len(blk) < 2 {
				return Captions{}, refuse(timing.n, "expected a cue timing like 00:00:01.000 --> 00:00:04.000, found %q", clip(timing.text))
			}
			cue.ID = timing.text
			timing, rest = blk[1], blk[2:]
		}
		var err error
		if cue.Start, cue.End, cue.Settings, err = cueTiming(timing, '.'); err != nil {
			return Captions{}, err
		}
		for _, l := range rest {
			if strings.Contains(l.text, "-->") {
				return Captions{}, refuse(l.n, "cue text may not hold \"-->\"; is a blank line missing before this cue?")
			}
			cue.Text = append(cue.Text, l.text)
		}
		if err := c.add(cue, timing.n); err != nil {
			return Captions{}, err
		}
	}
	return c, nil
}

func parseSRT(lines []string) (Captions, error) {
	c := Captions{Format: SRT}
	for _, blk := range blocks(lines, 0) {
		if len(blk) < 2 {
			return Captions{}, refuse(blk[0].n, "expected a numbered cue (a number, then a timing like 00:00:01,000 --> 00:00:04,000), found %q", clip(blk[0].text))
		}
		if _, err := strconv.ParseUint(strings.TrimSpace(blk[0].text), 10, 32); err != nil {
			if blk[0].n == 1 {
				return Captions{}, refuse(1, "neither WebVTT (which starts with WEBVTT) nor SRT (which starts with a cue number): found %q", clip(blk[0].text))
			}
			return Captions{}, refuse(blk[0].n, "expected a cue number, found %q", clip(blk[0].text))
		}
		start, end, settings, err := cueTiming(blk[1], ',')
		if err != nil {
			return Captions{}, err
		}
		if settings != "" {
			return Captions{}, refuse(blk[1].n, "unexpected text after the cue timing: %q", clip(settings))
		}
		cue := Cue{ID: strings.TrimSpace(blk[0].text), Start: start, End: end}
		for _, l := range blk[2:] {
			if strings.Contains(l.text, "-->") {
				return Captions{}, refuse(l.n, "cue text may not hold \"-->\"; is a blank line missing before this cue?")
			}
			text := srtText(l.text)
			if strings.TrimSpace(text) == "" {
				// A line of nothing but override codes and font tags
				// shows nothing, and written blank it would end the cue
				// in WebVTT.
				continue
			}
			cue.Text = append(cue.Text, text)
		}
		if err := c.add(cue, blk[1].n); err != nil {
			return Captions{}, err
		}
	}
	return c, nil
}

// add appends cue, read with its timing on line n, if it ends after it
// starts and starts no earlier than the cue before it.
func (c *Captions) add(cue Cue, n int) error {
	if cue.End <= cue.Start {
		return refuse(n, "the cue ends (%s) before it starts (%s)", Timestamp(cue.End), Timestamp(cue.Start))
	}
	if k := len(c.Cues); k > 0 && cue.Start < c.Cues[k-1].Start {
		return refuse(n, "the cue starts (%s) before the cue above it (%s): cues must be in order of time", Timestamp(cue.Start), Timestamp(c.Cues[k-1].Start))
	}
	c.Cues = append(c.Cues, cue)
	return nil
}

func joinBlock(blk []numbered) string {
	texts := make([]string, len(blk))
	for i, l := range blk {
		texts[i] = l.text
	}
	return strings.Join(texts, "\n")
}

// cueTiming reads "start --> end [settings]"; sep is the character before
// the milliseconds ('.' in WebVTT, ',' in SRT, which also takes '.').
func cueTiming(l numbered, sep byte) (start, end int64, settings string, err error) {
	left, right, ok := strings.Cut(l.text, "-->")
	if !ok {
		return 0, 0, "", refuse(l.n, "expected a cue timing like %s, found %q", example(sep), clip(l.text))
	}
	left = strings.TrimSpace(left)
	right = strings.TrimLeft(right, " \t")
	endText, settings, _ := strings.Cut(right, " ")
	if t, s, found := strings.Cut(endText, "\t"); found {
		endText, settings = t, s+" "+settings
	}
	if start, ok = timestamp(left, sep); !ok {
		return 0, 0, "", refuse(l.n, "the start time %q is not a timestamp like %s", clip(left), example(sep)[:12])
	}
	if end, ok = timestamp(endText, sep); !ok {
		return 0, 0, "", refuse(l.n, "the end time %q is not a timestamp like %s", clip(endText), example(sep)[:12])
	}
	return start, end, strings.TrimSpace(settings), nil
}

func example(sep byte) string {
	return "00:00:01" + string(sep) + "000 --> 00:00:04" + string(sep) + "000"
}

// maxHours bounds a timestamp's hours, so that milliseconds never overflow
// and a typo of many digits is refused rather than read.
const maxHours = 99999

// timestamp reads [hh:]mm:ss.ttt (WebVTT: hours of two digits or more,
// minutes and seconds of two below 60, three digits of milliseconds) in
// milliseconds. SRT's hh:mm:ss,ttt also takes one digit of hours and a
// point for the comma, as many tools write them.
func timestamp(s string, sep byte) (int64, bool) {
	fracAt := strings.LastIndexAny(s, ".,")
	if fracAt < 0 || (s[fracAt] != sep && !(sep == ',' && s[fracAt] == '.')) {
		return 0, false
	}
	ms, ok := number(s[fracAt+1:], 3, 3)
	if !ok {
		return 0, false
	}
	parts := strings.Split(s[:fracAt], ":")
	var hours int64
	switch {
	case len(parts) == 3:
		minDigits := 2
		if sep == ',' {
			minDigits = 1
		}
		if hours, ok = number(parts[0], minDigits, 5); !ok || hours > maxHours {
			return 0, false
		}
		parts = parts[1:]
	case len(parts) == 2 && sep == '.':
	default:
		return 0, false
	}
	minutes, ok1 := number(parts[0], 2, 2)
	seconds, ok2 := number(parts[1], 2, 2)
	if !ok1 || !ok2 || minutes > 59 || seconds > 59 {
		return 0, false
	}
	return ((hours*60+minutes)*60+seconds)*1000 + ms, true
}

// number reads a run of min to max ASCII digits.
func number(s string, min, max int) (int64, bool) {
	if len(s) < min || len(s) > max {
		return 0, false
	}
	var n int64
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// Timestamp writes ms as WebVTT's hh:mm:ss.ttt.
func Timestamp(ms int64) string {
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3_600_000, ms/60_000%60, ms/1000%60, ms%1000)
}

// clip shortens a line quoted in an error message.
func clip(s string) string {
	const most = 60
	if utf8.RuneCountInString(s) <= most {
		return s
	}
	return string([]rune(s)[:most]) + "…"
}

// srtText turns an SRT cue line into WebVTT cue text: the <i>, <b> and <u>
// tags both know stay; <font> tags and {\…} override codes, which WebVTT
// has no use for, go; a bare "&" or "<" that starts no markup is escaped
// so that it shows as written.
func srtText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case s[i] == '{' && strings.HasPrefix(s[i:], `{\`):
			if end := strings.IndexByte(s[i:], '}'); end > 0 {
				i += end + 1
				continue
			}
		case s[i] == '<':
			if tag, n := srtTag(s[i:]); n > 0 {
				b.WriteString(tag)
				i += n
				continue
			}
			b.WriteString("&lt;")
			i++
			continue
		case s[i] == '&':
			if !entity(s[i:]) {
				b.WriteString("&amp;")
				i++
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// srtTag reads a tag at the start of s: the WebVTT it becomes and the
// bytes it took, or 0 when s starts no tag.
func srtTag(s string) (string, int) {
	end := strings.IndexByte(s, '>')
	if end < 0 {
		return "", 0
	}
	name := strings.ToLower(strings.TrimSpace(s[1:end]))
	switch {
	case name == "i" || name == "b" || name == "u" || name == "/i" || name == "/b" || name == "/u":
		return "<" + name + ">", end + 1
	case name == "/font" || strings.HasPrefix(name, "font ") || name == "font":
		return "", end + 1
	}
	return "", 0
}

// entity reports whether s starts with a character reference such as
// "&amp;" or "&#233;".
func entity(s string) bool {
	end := strings.IndexByte(s, ';')
	if end < 2 || end > 10 {
		return false
	}
	for _, c := range []byte(s[1:end]) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '#') {
			return false
		}
	}
	return true
}

// WebVTT writes the captions as a WebVTT file: the header blocks kept
// from a WebVTT source, then every cue with its identifier, timing,
// settings and text.
func (c Captions) WebVTT() []byte {
	var b bytes.Buffer
	b.WriteString("WEBVTT\n")
	for _, h := range c.Header {
		b.WriteString("\n" + h + "\n")
	}
	for _, cue := range c.Cues {
		b.WriteString("\n")
		if cue.ID != "" {
			b.WriteString(cue.ID + "\n")
		}
		b.WriteString(Timestamp(cue.Start) + " --> " + Timestamp(cue.End))
		if cue.Settings != "" {
			b.WriteString(" " + cue.Settings)
		}
		b.WriteString("\n")
		for _, l := range cue.Text {
			b.WriteString(l + "\n")
		}
	}
	return b.Bytes()
}

// Convert reads a caption file (Parse) and returns it as WebVTT.
func Convert(b []byte) ([]byte, error) {
	c, err := Parse(b)
	if err != nil {
		return nil, err
	}
	return c.WebVTT(), nil
}
