package store

import (
	"errors"
	"reflect"
	"testing"

	"github.com/cloudflix/cloudflix/internal/video"
)

// The stored form of renditions is part of both schemas: its field names
// must not follow a rename of video.Rendition's fields.
func TestRenditionsStoredForm(t *testing.T) {
	t.Parallel()
	rs := []video.Rendition{{Name: "720p", Width: 1280, Height: 720, Bandwidth: 3_000_000, AverageBandwidth: 2_400_000, Codecs: "avc1.64001f,mp4a.40.2", FrameRate: 29.97}}
	b, err := EncodeRenditions(rs)
	if err != nil {
		t.Fatal(err)
	}
	const want = `[{"name":"720p","width":1280,"height":720,"bandwidth":3000000,"average_bandwidth":2400000,"codecs":"avc1.64001f,mp4a.40.2","frame_rate":29.97}]`
	if string(b) != want {
		t.Fatalf("EncodeRenditions = %s, want %s", b, want)
	}
	v, err := ScannedVideo(video.Video{ID: "v", Tags: []string{"a"}}, b)
	if err != nil || !reflect.DeepEqual(v.Renditions, rs) || !reflect.DeepEqual(v.Tags, []string{"a"}) {
		t.Fatalf("ScannedVideo = %+v, %v", v, err)
	}
}

func TestScannedVideoEmptyListsAreNil(t *testing.T) {
	t.Parallel()
	v, err := ScannedVideo(video.Video{ID: "v", Tags: []string{}}, []byte("[]"))
	if err != nil || v.Tags != nil || v.Renditions != nil {
		t.Fatalf("ScannedVideo = %+v, %v; want nil tags and renditions", v, err)
	}
	if _, err := ScannedVideo(video.Video{ID: "v"}, []byte("{")); err == nil {
		t.Fatal("ScannedVideo of malformed renditions succeeded")
	}
}

func TestWhyNot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		state       video.State
		found, gone bool
		want        error
	}{
		{"", false, false, video.ErrNotFound},
		{"", false, true, video.ErrNotFound},
		{video.StateDeleted, true, true, video.ErrNotFound},
		{video.StateDeleted, true, false, video.ErrWrongState},
		{video.StateReady, true, true, video.ErrWrongState},
		{video.StateProcessing, true, false, video.ErrWrongState},
	} {
		if err := WhyNot(tc.state, tc.found, tc.gone); !errors.Is(err, tc.want) {
			t.Errorf("WhyNot(%q, found %v, deletedIsGone %v) = %v, want %v", tc.state, tc.found, tc.gone, err, tc.want)
		}
	}
}
