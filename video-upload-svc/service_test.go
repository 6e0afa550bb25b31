package uploadsvc

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/video"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

func TestPartSize(t *testing.T) {
	cases := []struct{ size, configured, want int64 }{
		{100, 16 << 20, 16 << 20},
		{100, 1 << 20, 5 << 20},         // never below S3's minimum
		{200 << 30, 16 << 20, 21 << 20}, // 200 GiB needs bigger parts to stay within 10000
	}
	for _, c := range cases {
		got := partSize(c.size, c.configured)
		if got != c.want {
			t.Errorf("partSize(%d, %d) = %d, want %d", c.size, c.configured, got, c.want)
		}
		if parts := (c.size + got - 1) / got; parts > maxParts {
			t.Errorf("partSize(%d) gives %d parts", c.size, parts)
		}
	}
}

func TestCheckParts(t *testing.T) {
	sess := video.UploadSession{SizeBytes: 12 << 20, PartSize: 5 << 20}
	full := []blob.Part{{Number: 1, Size: 5 << 20}, {Number: 2, Size: 5 << 20}, {Number: 3, Size: 2 << 20}}
	if err := checkParts(sess, full, 1<<30); err != nil {
		t.Fatalf("complete parts rejected: %v", err)
	}
	cases := map[string][]blob.Part{
		"missing":   full[:2],
		"short":     {{Number: 1, Size: 5 << 20}, {Number: 2, Size: 4 << 20}, {Number: 3, Size: 2 << 20}},
		"long last": {{Number: 1, Size: 5 << 20}, {Number: 2, Size: 5 << 20}, {Number: 3, Size: 3 << 20}},
		"gap":       {{Number: 1, Size: 5 << 20}, {Number: 3, Size: 2 << 20}, {Number: 4, Size: 5 << 20}},
	}
	for name, parts := range cases {
		err := checkParts(sess, parts, 1<<30)
		if !errors.Is(err, video.ErrWrongState) {
			t.Errorf("%s: err = %v, want ErrWrongState", name, err)
		}
	}
	if err := checkParts(sess, full[:2], 1<<30); !strings.Contains(err.Error(), "missing: 3") {
		t.Errorf("missing part not named: %v", err)
	}
	if err := checkParts(sess, full, 10<<20); !video.IsInvalid(err) || !strings.Contains(err.Error(), "limit") {
		t.Errorf("a file over a limit lowered since create: %v", err)
	}
	if err := checkParts(video.UploadSession{PartSize: 5 << 20}, nil, 1<<30); err != nil {
		t.Errorf("empty file rejected: %v", err)
	}
}

func TestNewVideoValidates(t *testing.T) {
	s := &Service{limits: Limits{MaxBytes: 1 << 30, AllowedTypes: []string{"video/mp4", "video/webm"}, SessionTTL: time.Hour}}
	ok := &pb.CreateUploadRequest{Title: "  Sunrise  ", Filename: "a.MP4", SizeBytes: 10, Tags: []string{"Nature", "nature ", " ", "Time  Lapse"}}
	v, err := s.newVideo(ok)
	if err != nil {
		t.Fatal(err)
	}
	if v.Title != "Sunrise" || v.ContentType != "video/mp4" || strings.Join(v.Tags, "|") != "nature|time lapse" || v.State != video.StateUploading {
		t.Fatalf("video = %+v", v)
	}
	bad := map[string]*pb.CreateUploadRequest{
		"title is required":    {Filename: "a.mp4", SizeBytes: 10},
		"larger than":          {Title: "x", Filename: "a.mp4", SizeBytes: 2 << 30},
		"not accepted":         {Title: "x", ContentType: "application/pdf", SizeBytes: 10},
		"content_type":         {Title: "x", Filename: "notes.txt", SizeBytes: 10},
		"not a media type":     {Title: "x", ContentType: "video/", SizeBytes: 10},
		"must not be negative": {Title: "x", Filename: "a.mp4", SizeBytes: -1},
		"at most 20 tags":      {Title: "x", Filename: "a.mp4", SizeBytes: 1, Tags: strings.Split(strings.Repeat("t,", 21), ",")},
	}
	for want, req := range bad {
		_, err := s.newVideo(req)
		if !video.IsInvalid(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("newVideo(%v) = %v, want an invalid-argument error mentioning %q", req, err, want)
		}
	}
	if v, err := s.newVideo(&pb.CreateUploadRequest{Title: "x", ContentType: "video/webm; codecs=vp9", SizeBytes: 1}); err != nil || v.ContentType != "video/webm" {
		t.Errorf("parameters in the type: %v %v", v.ContentType, err)
	}
}
