package transcode

import (
	"strings"
	"testing"

	"github.com/cloudflix/cloudflix/internal/video"
)

func TestMasterPlaylistWithCaptions(t *testing.T) {
	rs := []video.Rendition{
		{Name: "360p", Width: 640, Height: 360, Bandwidth: 1_000_000, AverageBandwidth: 800_000, Codecs: "avc1.64001e,mp4a.40.2", FrameRate: 30},
		{Name: "720p", Width: 1280, Height: 720, Bandwidth: 3_000_000, AverageBandwidth: 2_000_000, Codecs: "avc1.64001f,mp4a.40.2"},
	}
	caps := []video.Caption{{Language: "en", Label: "English"}, {Language: "en-GB", Label: "English"}, {Language: "pt-BR", Label: "Português"}}
	got, err := MasterPlaylist(rs, caps)
	if err != nil {
		t.Fatal(err)
	}
	want := `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English (en)",LANGUAGE="en",DEFAULT=NO,AUTOSELECT=YES,URI="../captions/en.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English (en-GB)",LANGUAGE="en-GB",DEFAULT=NO,AUTOSELECT=YES,URI="../captions/en-GB.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Português",LANGUAGE="pt-BR",DEFAULT=NO,AUTOSELECT=YES,URI="../captions/pt-BR.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=1000000,AVERAGE-BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",FRAME-RATE=30.000,SUBTITLES="subs"
360p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",SUBTITLES="subs"
720p/index.m3u8
`
	if string(got) != want {
		t.Fatalf("MasterPlaylist =\n%s\nwant\n%s", got, want)
	}
	// Without captions it is the encoder's playlist: no group named.
	plain, err := MasterPlaylist(rs, nil)
	if err != nil || strings.Contains(string(plain), "SUBTITLES") {
		t.Fatalf("MasterPlaylist without captions = %s, %v", plain, err)
	}
	if _, err := MasterPlaylist(rs, []video.Caption{{Language: "en", Label: `a "quote"`}}); err == nil {
		t.Fatal("MasterPlaylist took a label with a quote")
	}
}
