package transcode

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"time"
)

// progressParser reads ffmpeg's -progress output, blocks of key=value lines
// each ended by "progress=continue" or "progress=end", and reports how far
// the encode is as a fraction of the source's duration, at most once per
// interval. It is the Stdout of the ffmpeg command, so Write is called from
// one goroutine at a time.
type progressParser struct {
	duration float64 // seconds of the source
	report   func(fraction float64)
	interval time.Duration
	now      func() time.Time

	partial   []byte
	outTimeUS int64
	last      time.Time
	reported  float64
	anyReport bool
}

func newProgressParser(duration float64, report func(float64)) *progressParser {
	return &progressParser{duration: duration, report: report, interval: time.Second, now: time.Now, outTimeUS: -1}
}

func (p *progressParser) Write(b []byte) (int, error) {
	p.partial = append(p.partial, b...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			break
		}
		p.line(strings.TrimSpace(string(p.partial[:i])))
		p.partial = p.partial[i+1:]
	}
	return len(b), nil
}

func (p *progressParser) line(line string) {
	key, value, ok := strings.Cut(line, "=")
	if !ok {
		return
	}
	switch key {
	case "out_time_us":
		p.setOutTime(value)
	case "out_time_ms":
		// Despite its name ffmpeg writes microseconds here too; it is only
		// a fallback for builds without out_time_us.
		if p.outTimeUS < 0 {
			p.setOutTime(value)
		}
	case "progress":
		p.endOfBlock()
	}
}

func (p *progressParser) setOutTime(value string) {
	if us, err := strconv.ParseInt(value, 10, 64); err == nil && us >= 0 {
		p.outTimeUS = us
	}
}

// endOfBlock reports the block's position. A fraction of 1 is left to the
// caller, which knows whether the encode as a whole succeeded.
func (p *progressParser) endOfBlock() {
	// A duration that is not a positive number gives no fraction.
	if p.report == nil || !(p.duration > 0) || p.outTimeUS < 0 {
		return
	}
	f := min(float64(p.outTimeUS)/1e6/p.duration, 0.99)
	now := p.now()
	if p.anyReport && (now.Sub(p.last) < p.interval || f <= p.reported) {
		return
	}
	p.last, p.reported, p.anyReport = now, f, true
	p.report(f)
}

// tail keeps the last lines written to it: ffmpeg's stderr, for the error
// message when it fails. It is safe for concurrent use.
type tail struct {
	mu      sync.Mutex
	max     int
	lines   []string
	partial []byte
}

const maxTailLine = 400

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, b...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.add(string(t.partial[:i]))
		t.partial = t.partial[i+1:]
	}
	if len(t.partial) > maxTailLine {
		t.add(string(t.partial))
		t.partial = t.partial[:0]
	}
	return len(b), nil
}

func (t *tail) add(line string) {
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	if len(line) > maxTailLine {
		line = line[:maxTailLine] + "…"
	}
	t.lines = append(t.lines, line)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

// String is the kept lines, the unfinished last one included.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := t.lines
	if s := strings.TrimSpace(string(t.partial)); s != "" {
		lines = append(lines[:len(lines):len(lines)], s)
		lines = lines[max(0, len(lines)-t.max):]
	}
	return strings.Join(lines, "\n")
}
