package transcode

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cloudflix/cloudflix/internal/video"
)

// SubtitleGroup is the GROUP-ID of the captions in a master playlist.
const SubtitleGroup = "subs"

// MasterPlaylist is the HLS master playlist of the renditions, in order,
// each pointing at {name}/index.m3u8, and of the captions, each a member
// of the SUBTITLES group every rendition names, pointing at its media
// playlist (video.CaptionPlaylistURI). It is the one place a master
// playlist is composed: the encoder writes it with the captions known when
// it publishes, and a change of captions writes it again from the stored
// renditions, so the two can never disagree on its form.
func MasterPlaylist(rs []video.Rendition, captions []video.Caption) ([]byte, error) {
	if len(rs) == 0 {
		return nil, errors.New("master playlist: no renditions")
	}
	var b bytes.Buffer
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	// NAME must be unique within the group (RFC 8216 section 4.3.4.1.1):
	// two captions labelled alike are told apart by their language.
	labels := make(map[string]int, len(captions))
	for _, c := range captions {
		labels[c.Label]++
	}
	for _, c := range captions {
		if c.Language == "" || c.Label == "" || bytes.ContainsAny([]byte(c.Language+c.Label), "\"\r\n") {
			return nil, fmt.Errorf("master playlist: caption %+v cannot be named", c)
		}
		name := c.Label
		if labels[c.Label] > 1 {
			name += " (" + c.Language + ")"
		}
		fmt.Fprintf(&b, "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"%s\",NAME=\"%s\",LANGUAGE=\"%s\",DEFAULT=NO,AUTOSELECT=YES,URI=\"%s\"\n",
			SubtitleGroup, name, c.Language, video.CaptionPlaylistURI(c.Language))
	}
	for _, r := range rs {
		if r.Name == "" || r.Width <= 0 || r.Height <= 0 || r.Codecs == "" || r.AverageBandwidth <= 0 || r.Bandwidth < r.AverageBandwidth {
			return nil, fmt.Errorf("master playlist: rendition %+v is incomplete", r)
		}
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,RESOLUTION=%dx%d,CODECS=\"%s\"",
			r.Bandwidth, r.AverageBandwidth, r.Width, r.Height, r.Codecs)
		if r.FrameRate > 0 {
			fmt.Fprintf(&b, ",FRAME-RATE=%.3f", r.FrameRate)
		}
		if len(captions) > 0 {
			fmt.Fprintf(&b, ",SUBTITLES=\"%s\"", SubtitleGroup)
		}
		fmt.Fprintf(&b, "\n%s/index.m3u8\n", r.Name)
	}
	return b.Bytes(), nil
}
