package transcode

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// testdata/progress.txt is the -progress output of a real ffmpeg 5.1 run on
// a 10 s clip: seven blocks, the last one "progress=end".
func feedSample(t *testing.T, p *progressParser) {
	t.Helper()
	b, err := os.ReadFile("testdata/progress.txt")
	if err != nil {
		t.Fatal(err)
	}
	// Odd-sized writes: a line may arrive in pieces.
	for len(b) > 0 {
		n := min(7, len(b))
		if _, err := p.Write(b[:n]); err != nil {
			t.Fatal(err)
		}
		b = b[n:]
	}
}

// fakeClock advances half a second each time it is read, as ffmpeg's
// blocks arrive (its default -stats_period).
func fakeClock() func() time.Time {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	return func() time.Time {
		n++
		return t0.Add(time.Duration(n-1) * 500 * time.Millisecond)
	}
}

func sameFractions(t *testing.T, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("reported %v, want %v", got, want)
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Fatalf("reported %v, want %v", got, want)
		}
	}
}

func TestProgressParserEveryBlock(t *testing.T) {
	t.Parallel()
	var got []float64
	p := newProgressParser(10, func(f float64) { got = append(got, f) })
	p.now, p.interval = fakeClock(), 0
	feedSample(t, p)
	// The end block is capped below 1: only Encode, once it has measured
	// and written everything, says 1.
	sameFractions(t, got, []float64{0.002322, 0.1787937, 0.3390113, 0.515483, 0.6803447, 0.8614603, 0.99})
}

func TestProgressParserThrottles(t *testing.T) {
	t.Parallel()
	var got []float64
	p := newProgressParser(10, func(f float64) { got = append(got, f) })
	p.now = fakeClock()
	feedSample(t, p)
	// Blocks come every 0.5 s; at most one report a second gets through.
	sameFractions(t, got, []float64{0.002322, 0.3390113, 0.6803447, 0.99})
}

func TestProgressParserIgnoresNoise(t *testing.T) {
	t.Parallel()
	var got []float64
	p := newProgressParser(4, func(f float64) { got = append(got, f) })
	p.interval = 0
	input := strings.Join([]string{
		"frame=1", "out_time_us=N/A", "progress=continue", // no position yet: no report
		"garbage line", "out_time_ms=1000000", "progress=continue", // the fallback key
		"out_time_us=2000000", "out_time_ms=999", "progress=continue", // out_time_us wins
		"out_time_us=1500000", "progress=continue", // never backwards
		"",
	}, "\n")
	if _, err := p.Write([]byte(input)); err != nil {
		t.Fatal(err)
	}
	sameFractions(t, got, []float64{0.25, 0.5})
}

func TestTailKeepsLastLines(t *testing.T) {
	t.Parallel()
	tl := &tail{max: 3}
	for _, s := range []string{"one\ntwo\n", "\nthree\nfo", "ur\nfive"} {
		if _, err := tl.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := tl.String(), "three\nfour\nfive"; got != want {
		t.Fatalf("tail = %q, want %q", got, want)
	}
	long := &tail{max: 2}
	if _, err := long.Write([]byte(strings.Repeat("x", 3*maxTailLine))); err != nil {
		t.Fatal(err)
	}
	if got := long.String(); len(got) > maxTailLine+len("…") {
		t.Fatalf("an endless line is kept whole: %d bytes", len(got))
	}
}
