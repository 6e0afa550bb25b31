// Package ladder decides which renditions (rungs) a source video is encoded
// into: the standard heights up to the source's own, with sizes and bitrate
// caps for each. It is pure arithmetic: it must never run ffmpeg, touch files
// or upscale a source.
package ladder

import (
	"fmt"
	"math"
)

// Rung is one rendition of the HLS ladder.
type Rung struct {
	Name          string // "720p": the short side, also the rendition's folder name
	Width, Height int    // even, the source's aspect ratio
	MaxBitrate    int    // video bits per second the encoder may not exceed (capped CRF)
	BufSize       int    // VBV buffer in bits: how long a burst above MaxBitrate may last
	CRF           int    // constant-rate-factor quality target under the cap
	AudioBitrate  int    // AAC bits per second
}

// standard rungs, by short side. The caps are those of common streaming
// ladders for H.264 at ~30 fps; CRF does the work and the cap only bounds peaks.
var standard = []struct {
	short      int
	maxBitrate int
	audio      int
}{
	{240, 400_000, 96_000},
	{360, 800_000, 96_000},
	{480, 1_400_000, 128_000},
	{720, 2_800_000, 128_000},
	{1080, 5_000_000, 128_000},
	{1440, 8_000_000, 128_000},
	{2160, 14_000_000, 128_000},
}

// CRF is the quality target of every rung: x264's default, visually good
// at the sizes of a streaming ladder.
const CRF = 23

// tolerance is how far (as a fraction) the source's short side may fall below a
// standard height and still get that rung, at the source's own size: a 1279x719
// file is a 720p video that lost a pixel to an editor, not a 480p one.
const tolerance = 0.02

// For returns the ladder for a source of the given display size (after
// rotation), smallest rung first. Rungs follow the short side, so a portrait
// 720x1280 source gets 240p..720p rungs that are portrait too. Only standard
// heights up to the source's short side are used; a source smaller than the
// lowest standard gets one rung at its own size. Sizes are even, as 4:2:0
// video needs.
func For(srcWidth, srcHeight int) []Rung {
	if srcWidth < 2 || srcHeight < 2 {
		return nil
	}
	short, long := srcHeight, srcWidth
	portrait := srcHeight > srcWidth
	if portrait {
		short, long = srcWidth, srcHeight
	}
	maxShort, maxLong := floorEven(short), floorEven(long)

	var rungs []Rung
	for _, s := range standard {
		if float64(short) < float64(s.short)*(1-tolerance) {
			break
		}
		outShort := min(s.short, maxShort)
		outLong := min(roundEven(float64(outShort)*float64(long)/float64(short)), maxLong)
		rungs = append(rungs, rung(s.short, outShort, outLong, portrait, s.maxBitrate, s.audio))
	}
	if len(rungs) == 0 {
		lowest := standard[0]
		rungs = append(rungs, rung(maxShort, maxShort, maxLong, portrait, lowest.maxBitrate, lowest.audio))
	}
	return rungs
}

func rung(name, short, long int, portrait bool, maxBitrate, audio int) Rung {
	w, h := long, short
	if portrait {
		w, h = short, long
	}
	return Rung{
		Name:         fmt.Sprintf("%dp", name),
		Width:        w,
		Height:       h,
		MaxBitrate:   maxBitrate,
		BufSize:      2 * maxBitrate,
		CRF:          CRF,
		AudioBitrate: audio,
	}
}

// roundEven rounds x to the nearest even integer, at least 2.
func roundEven(x float64) int {
	return max(2, int(math.Round(x/2))*2)
}

// floorEven is the largest even integer not above n, at least 2.
func floorEven(n int) int {
	return max(2, n&^1)
}
