package transcode

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"
)

// fuzzLimits are the default limits of the encode target.
var fuzzLimits = Limits{MaxDuration: 4 * time.Hour, MaxWidth: 4096, MaxHeight: 4096, MaxPixelRate: 1e9, MaxFrameRate: 240, MaxFrames: 864000}

// FuzzProbeOutput reads any JSON as ffprobe's description of a source: it
// is a file ffprobe was handed by an uploader, so its streams can claim
// anything. What is refused is refused as the file's fault, and what is
// accepted has a codec, a display size within the limits and a finite frame
// rate and declared duration. No stream's display size overflows.
func FuzzProbeOutput(f *testing.F) {
	f.Fuzz(func(t *testing.T, probed []byte, size int64) {
		var out probeOutput
		if err := json.Unmarshal(probed, &out); err != nil {
			t.Skip("not ffprobe's JSON")
		}
		for _, st := range out.Streams {
			if w, h := displaySize(st); st.Width > 0 && st.Height > 0 && (w < 0 || h < 0) {
				t.Fatalf("a %dx%d stream with pixels %q shows as %dx%d", st.Width, st.Height, st.SampleAspectRatio, w, h)
			}
		}
		for _, l := range []Limits{fuzzLimits, {}} {
			src, declared, err := out.source(size, l)
			if err != nil {
				var u *Unsupported
				if !errors.As(err, &u) || u.Reason == "" {
					t.Fatalf("refused with %v, not as the file's fault", err)
				}
				continue
			}
			long, short := max(src.Width, src.Height), min(src.Width, src.Height)
			switch {
			case src.VideoCodec == "":
				t.Fatalf("accepted %+v without a codec", src)
			case short < minSide || l.MaxWidth > 0 && (long > l.MaxWidth || short > l.MaxHeight):
				t.Fatalf("accepted a %dx%d picture with limits %+v", src.Width, src.Height, l)
			case !finite(src.FrameRate) || src.FrameRate < 0:
				t.Fatalf("accepted a frame rate of %v", src.FrameRate)
			case !finite(declared) || declared < 0:
				t.Fatalf("accepted a declared duration of %v", declared)
			case src.SizeBytes != size:
				t.Fatalf("size %d, want %d", src.SizeBytes, size)
			}
		}
	})
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
