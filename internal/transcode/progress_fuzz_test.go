package transcode

import (
	"slices"
	"testing"
)

// FuzzProgress feeds any output to the -progress parser, whole and cut in
// two at any byte, as a pipe may deliver it. Every fraction reported is
// below 1 and above the one before, and where the output is cut makes no
// difference.
func FuzzProgress(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte, cut int, duration float64) {
		feed := func(chunks ...[]byte) []float64 {
			var got []float64
			p := newProgressParser(duration, func(f float64) { got = append(got, f) })
			p.now, p.interval = fakeClock(), 0
			for _, c := range chunks {
				if n, err := p.Write(c); n != len(c) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			return got
		}
		whole := feed(out)
		for i, f := range whole {
			if !(f >= 0 && f <= 0.99) || (i > 0 && f <= whole[i-1]) {
				t.Fatalf("reported %v, not rising fractions below 1", whole)
			}
		}
		cut = int(uint(cut) % uint(len(out)+1))
		if pieces := feed(out[:cut], out[cut:]); !slices.Equal(pieces, whole) {
			t.Fatalf("cut at %d, reported %v; whole, %v", cut, pieces, whole)
		}
	})
}
