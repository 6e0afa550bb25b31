package transcode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/cloudflix/cloudflix/internal/ladder"
	"github.com/cloudflix/cloudflix/internal/video"
)

// A video is watchable while it encodes: each rung's segments are published
// as ffmpeg completes them, under EVENT media playlists that only grow, and a
// master playlist whose bandwidths are bounds the encoder settings
// guarantee. When the encode ends the same playlists become VOD playlists
// naming the same segments, and the master playlist carries the measured
// bandwidths (WriteMaster).

// Segment is one complete media segment of a rendition.
type Segment struct {
	Name    string  // its file name, beside the rendition's playlist
	Seconds float64 // its EXTINF duration
}

// Written is what ffmpeg has completed of one rendition so far.
type Written struct {
	Init     string    // file name of the init segment; "" while no media segment is complete
	Segments []Segment // the complete media segments, in order
	Ended    bool      // ffmpeg has written the last segment
}

// WrittenSoFar reads what ffmpeg has completed of the rendition in dir
// (outDir/{rung name} of Encode): the segments its playlist lists. ffmpeg
// lists a segment once it has closed the segment's file, after writing the
// init segment, and replaces the playlist by renaming a new version over
// it, so every listed segment is whole and the playlist is never read half
// written. Before the first segment is complete there is no playlist and
// nothing is written.
func WrittenSoFar(dir string) (Written, error) {
	b, err := os.ReadFile(filepath.Join(dir, "index.m3u8"))
	if errors.Is(err, fs.ErrNotExist) {
		return Written{}, nil
	}
	if err != nil {
		return Written{}, err
	}
	pl, err := parsePlaylist(b)
	if err != nil {
		return Written{}, fmt.Errorf("%s: %w", filepath.Join(dir, "index.m3u8"), err)
	}
	w := Written{Init: pl.init, Ended: pl.ended, Segments: make([]Segment, len(pl.segments))}
	for i, s := range pl.segments {
		w.Segments[i] = Segment{Name: s.uri, Seconds: s.seconds}
	}
	return w, nil
}

// Growing is the part of w that may be listed while the encode goes on:
// every segment but, once ffmpeg has ended, the last. Those lie between two
// keyframes of the SegmentSeconds grid, which is what TargetSeconds and
// BandwidthBound count on; the last one may be shorter, or longer where
// the audio runs on past the picture, and comes with the VOD playlist.
func (w Written) Growing() []Segment {
	if w.Ended && len(w.Segments) > 0 {
		return w.Segments[:len(w.Segments)-1]
	}
	return w.Segments
}

// segmentLengths are the shortest and longest a segment listed while
// growing can last at fps: every keyframe is forced on the first frame at
// or after a multiple of SegmentSeconds (and segments are cut only there),
// so a segment is SegmentSeconds long give or take one frame.
func segmentLengths(fps float64) (shortest, longest float64) {
	frame := 1 / fps
	return max(SegmentSeconds-frame, frame), SegmentSeconds + frame
}

// TargetSeconds is the EXT-X-TARGETDURATION of the growing media playlists
// of src's renditions: the longest a listed segment can last, rounded as
// RFC 8216 rounds EXTINF against it. It is known before the first segment
// and stays the same as the playlist grows, as the RFC requires.
func TargetSeconds(src Source) int {
	_, longest := segmentLengths(outputRate(src.FrameRate))
	return int(math.Round(longest))
}

// containerBytes is what fMP4 adds to a segment beyond the coded audio and
// video: its moof box, with a sample entry of up to 16 bytes for each of
// the ~120 video frames (at 60 fps) and ~94 AAC frames of 2 s, and the init
// segment (about 1.5 kB) that counts with the first segment. 16 KiB holds
// all of that with room to spare.
const containerBytes = 16 << 10

// audioMargin is how far above its bit rate the AAC encoder's output may
// run over one segment. ffmpeg's encoder spends a budget frame by frame
// with a small bit reservoir: white noise, the hardest input, comes to
// 1.03 times the rate per 2 s segment.
const audioMargin = 1.5

// BandwidthBound is a BANDWIDTH for rung r of src that no window of
// growing segments can exceed, known before any is encoded. The video is
// capped CRF under x264's VBV model: a buffer of BufSize bits filled at
// MaxBitrate, so the frames of any span of d seconds hold at most
// BufSize + MaxBitrate×d bits. RFC 8216's peak rate is the highest rate of
// a run of segments lasting at least half the target duration; every run
// of growing segments lasts at least one segment (shortest, about 2 s), so
// its video rate is at most MaxBitrate + BufSize/shortest, about twice
// MaxBitrate with the ladder's buffers of 2 s. Audio and container add
// their share (audioMargin, containerBytes).
func BandwidthBound(r ladder.Rung, src Source) int64 {
	shortest, _ := segmentLengths(outputRate(src.FrameRate))
	bits := float64(r.MaxBitrate) + float64(r.BufSize)/shortest + containerBytes*8/shortest
	if src.HasAudio {
		bits += audioMargin * float64(r.AudioBitrate)
	}
	return int64(math.Ceil(bits))
}

// GrowingRendition is rung r of src as the master playlist describes it
// while it is encoded: its size and frame rate from the encoder settings,
// its bandwidth the bound, and its codecs read from its init segment at
// initPath, as the final master playlist's are.
func GrowingRendition(r ladder.Rung, src Source, initPath string) (video.Rendition, error) {
	init, err := os.ReadFile(initPath)
	if err != nil {
		return video.Rendition{}, err
	}
	avc, err := avcCodec(init)
	if err != nil {
		return video.Rendition{}, fmt.Errorf("%s: %w", filepath.Base(initPath), err)
	}
	if src.HasAudio {
		avc += ",mp4a.40.2" // ffmpeg's AAC encoder writes AAC-LC
	}
	return video.Rendition{
		Name: r.Name, Width: r.Width, Height: r.Height,
		Bandwidth: BandwidthBound(r, src), Codecs: avc, FrameRate: outputRate(src.FrameRate),
	}, nil
}

// WriteGrowingMaster writes the master playlist of renditions still being
// encoded (GrowingRendition), each pointing at {name}/index.m3u8 as the
// final one (WriteMaster) does, so a player keeps its playlists when the
// encode ends. AVERAGE-BANDWIDTH is left out: it is not known until then.
func WriteGrowingMaster(w io.Writer, rs []video.Rendition) error {
	if len(rs) == 0 {
		return errors.New("growing master playlist: no renditions")
	}
	var b bytes.Buffer
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	for _, r := range rs {
		if r.Name == "" || r.Width <= 0 || r.Height <= 0 || r.Codecs == "" || r.Bandwidth <= 0 {
			return fmt.Errorf("growing master playlist: rendition %+v is incomplete", r)
		}
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,RESOLUTION=%dx%d,CODECS=\"%s\"", r.Bandwidth, r.Width, r.Height, r.Codecs)
		if r.FrameRate > 0 {
			fmt.Fprintf(&b, ",FRAME-RATE=%.3f", r.FrameRate)
		}
		fmt.Fprintf(&b, "\n%s/index.m3u8\n", r.Name)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// EventPlaylist is a rendition's media playlist while it grows: an EVENT
// playlist (RFC 8216 section 6.2.1: segments are only ever added, the media
// sequence stays 0) without ENDLIST, listing segs (from Written.Growing)
// after the init segment, with target from TargetSeconds. It asks players
// to start at the beginning (EXT-X-START), not at the live edge. A segment
// longer than the target is an error: the playlist would be invalid.
func EventPlaylist(target int, init string, segs []Segment) ([]byte, error) {
	for _, s := range segs {
		if int(math.Round(s.Seconds)) > target {
			return nil, fmt.Errorf("segment %s lasts %.3f s, longer than the target duration of %d s", s.Name, s.Seconds, target)
		}
	}
	return mediaPlaylist(target, init, segs, false), nil
}

// VODPlaylist is a rendition's media playlist once the encode has ended:
// the playlist EventPlaylist grew, now of type VOD with every segment and
// ENDLIST. Its target duration is target unless the last segment is longer.
func VODPlaylist(target int, init string, segs []Segment) []byte {
	for _, s := range segs {
		target = max(target, int(math.Round(s.Seconds)))
	}
	return mediaPlaylist(target, init, segs, true)
}

func mediaPlaylist(target int, init string, segs []Segment, ended bool) []byte {
	var b bytes.Buffer
	// The playlist type comes in the first lines, where the edge looks for
	// it to choose how long the playlist may be cached.
	kind := "EVENT"
	if ended {
		kind = "VOD"
	}
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:%s\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-INDEPENDENT-SEGMENTS\n", kind, target)
	if !ended {
		b.WriteString("#EXT-X-START:TIME-OFFSET=0\n")
	}
	fmt.Fprintf(&b, "#EXT-X-MAP:URI=\"%s\"\n", init)
	for _, s := range segs {
		fmt.Fprintf(&b, "#EXTINF:%.6f,\n%s\n", s.Seconds, s.Name)
	}
	if ended {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return b.Bytes()
}
