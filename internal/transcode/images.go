package transcode

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// ThumbnailWidth is the widest a thumbnail gets; smaller sources keep their width.
const ThumbnailWidth = 640

// Thumbnail writes one JPEG frame of the source, the one showing a tenth of
// the way in (past most fade-ins and black openings), at most ThumbnailWidth
// wide.
func (o Options) Thumbnail(ctx context.Context, src Source, srcPath, outPath string) error {
	err := o.thumbnail(ctx, src, srcPath, outPath, true)
	if errors.Is(err, errNoImage) {
		// A file without an index (MPEG-TS) is searched by timestamp,
		// which lands after the keyframe before the position: with no
		// keyframe after it, nothing decodes. Decoding from the start
		// is slower but always gets there.
		err = o.thumbnail(ctx, src, srcPath, outPath, false)
	}
	if errors.Is(err, errNoImage) {
		return unsupported("the video's pictures cannot be decoded")
	}
	return err
}

// thumbnail seeks to the thumbnail's frame before opening the source
// (seekInput), or by decoding up to it.
func (o Options) thumbnail(ctx context.Context, src Source, srcPath, outPath string, seekInput bool) error {
	w, h := fitWidth(src.Width, src.Height, ThumbnailWidth)
	// Seeking before -i jumps to the keyframe before the position and
	// decodes from there, instead of decoding everything up to it. It
	// reads the position to the microsecond, dropping further digits, so
	// it lands at or just before the frame's start.
	seek := []string{"-ss", strconv.FormatFloat(thumbnailAt(src), 'f', -1, 64)}
	args := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y"}
	if seekInput {
		args = append(args, seek...)
	}
	args = append(args, input(srcPath)...)
	if !seekInput {
		args = append(args, seek...)
	}
	args = append(args, "-map", "0:v:0", "-an", "-sn", "-dn", "-frames:v", "1",
		"-vf", fmt.Sprintf("%sscale=w=%d:h=%d:flags=lanczos,setsar=1", deinterlace(src), w, h),
		"-c:v", "mjpeg", "-q:v", "3", "-f", "image2", "-update", "1", outPath)
	if err := o.ffmpeg(ctx, args, io.Discard); err != nil {
		return fmt.Errorf("thumbnail: %w", err)
	}
	return nonEmpty("thumbnail", outPath)
}

// thumbnailAt is where Thumbnail seeks to: the start of the frame showing a
// tenth of the way in. ffmpeg skips a frame that starts before the position,
// so a position inside the last frame, which in a one-frame video is also
// the first, would leave it nothing to write.
func thumbnailAt(src Source) float64 {
	at := src.DurationSeconds / 10
	if src.FrameRate <= 0 {
		return at
	}
	// The small term keeps a product such as 8.9999999 from losing a frame.
	return math.Floor(at*src.FrameRate+1e-6) / src.FrameRate
}

// Storyboard tiling: tiles of StoryboardTileWidth pixels (or the source's
// width, if smaller), StoryboardColumns to a row, one tile every whole number
// of seconds such that there are at most StoryboardMaxTiles.
const (
	StoryboardTileWidth = 160
	StoryboardColumns   = 10
	StoryboardMaxTiles  = 100
)

// Sprite is a storyboard: a grid of small frames taken at a regular
// interval, in one image, which players show while seeking.
type Sprite struct {
	Image                 string  // the sheet's URL, relative to the VTT
	Duration              float64 // seconds of video the sheet covers
	Interval              float64 // seconds between tiles
	Tiles                 int
	Columns               int
	TileWidth, TileHeight int
}

// Rows is how many rows of tiles the sheet has.
func (s Sprite) Rows() int { return (s.Tiles + s.Columns - 1) / s.Columns }

// spriteFor plans the storyboard of src.
func spriteFor(src Source) Sprite {
	interval := max(1, math.Ceil(src.DurationSeconds/StoryboardMaxTiles))
	// ffmpeg's fps filter (with eof_action=pass, see Storyboard) gives a
	// tile at 0, interval, 2 x interval, ... for as long as there are
	// frames: the last frame starts one frame before the end.
	var frame float64
	if src.FrameRate > 0 {
		frame = 1 / src.FrameRate
	}
	tiles := min(StoryboardMaxTiles, max(1, int(math.Floor((src.DurationSeconds-frame)/interval))+1))
	w, h := fitWidth(src.Width, src.Height, StoryboardTileWidth)
	return Sprite{
		Image:      "storyboard.jpg",
		Duration:   src.DurationSeconds,
		Interval:   interval,
		Tiles:      tiles,
		Columns:    min(StoryboardColumns, tiles),
		TileWidth:  w,
		TileHeight: h,
	}
}

// Storyboard writes outDir/storyboard.jpg, a sprite sheet of the source, and
// outDir/storyboard.vtt, the WebVTT track whose cues cover the whole video
// and point at the tile of each moment (storyboard.jpg#xywh=x,y,w,h).
func (o Options) Storyboard(ctx context.Context, src Source, srcPath, outDir string) (jpg, vtt string, err error) {
	sp := spriteFor(src)
	jpg = filepath.Join(outDir, sp.Image)
	vtt = filepath.Join(outDir, "storyboard.vtt")
	args := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y"}
	args = append(args, input(srcPath)...)
	// By default the fps filter ends at the end of the video rounded to
	// the nearest tile, which drops the last tile when the video ends less
	// than half an interval after it: a one-frame video would have no tile.
	// eof_action=pass rounds up instead and keeps it. The tiles count from
	// the first frame: a file that does not say when it starts (an MPEG
	// program stream) leaves its first frame where it was stamped, and
	// the fps filter would round a frame at 0.5 s to a tile at 1 s.
	args = append(args, "-map", "0:v:0", "-an", "-sn", "-dn",
		"-vf", fmt.Sprintf("%ssetpts=PTS-STARTPTS,fps=1/%g:eof_action=pass,scale=w=%d:h=%d:flags=bicubic,setsar=1,tile=%dx%d",
			deinterlace(src), sp.Interval, sp.TileWidth, sp.TileHeight, sp.Columns, sp.Rows()),
		"-frames:v", "1", "-c:v", "mjpeg", "-q:v", "4", "-f", "image2", "-update", "1", jpg)
	if err := o.ffmpeg(ctx, args, io.Discard); err != nil {
		return "", "", fmt.Errorf("storyboard: %w", err)
	}
	if err := nonEmpty("storyboard", jpg); err != nil {
		return "", "", err
	}
	f, err := os.Create(vtt)
	if err != nil {
		return "", "", fmt.Errorf("storyboard: %w", err)
	}
	bw := bufio.NewWriter(f)
	err = sp.WriteVTT(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", "", fmt.Errorf("storyboard: write %s: %w", vtt, err)
	}
	return jpg, vtt, nil
}

// WriteVTT writes the sprite's WebVTT track: one cue per tile, back to back
// from 0 to the end of the video.
func (s Sprite) WriteVTT(w io.Writer) error {
	if s.Tiles <= 0 || s.Columns <= 0 || s.Interval <= 0 || s.Duration <= 0 {
		return fmt.Errorf("storyboard: sprite %+v is empty", s)
	}
	if _, err := io.WriteString(w, "WEBVTT\n"); err != nil {
		return err
	}
	for i := range s.Tiles {
		start := float64(i) * s.Interval
		end := min(start+s.Interval, s.Duration)
		if i == s.Tiles-1 {
			end = s.Duration
		}
		x, y := (i%s.Columns)*s.TileWidth, (i/s.Columns)*s.TileHeight
		if _, err := fmt.Fprintf(w, "\n%s --> %s\n%s#xywh=%d,%d,%d,%d\n",
			vttTime(start), vttTime(end), s.Image, x, y, s.TileWidth, s.TileHeight); err != nil {
			return err
		}
	}
	return nil
}

// vttTime writes seconds as a WebVTT timestamp, HH:MM:SS.mmm.
func vttTime(seconds float64) string {
	d := time.Duration(math.Round(seconds*1000)) * time.Millisecond
	return fmt.Sprintf("%02d:%02d:%02d.%03d",
		int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second), int(d%time.Second/time.Millisecond))
}

// fitWidth is w x h scaled down (never up) to at most maxWidth wide, aspect
// kept, both even.
func fitWidth(w, h, maxWidth int) (int, int) {
	if w <= 0 || h <= 0 {
		return 2, 2
	}
	outW := max(2, min(w, maxWidth)&^1)
	outH := max(2, int(math.Round(float64(outW)*float64(h)/float64(w)/2))*2)
	return outW, outH
}

// errNoImage: ffmpeg ended without error having written nothing (it found
// no frame to decode at or after a seek).
var errNoImage = errors.New("ffmpeg wrote no image")

// nonEmpty checks that ffmpeg wrote the file.
func nonEmpty(what, path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Size() == 0) {
		return fmt.Errorf("%s: %w", what, errNoImage)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
