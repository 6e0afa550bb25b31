package uploadsvc

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/video"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

const cue = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello\n"

func (r *rig) object(t *testing.T, key string) string {
	t.Helper()
	obj, err := r.objects.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Captions changed at once by many callers each publish the master
// playlist after their change; whichever write lands last, the stored
// master names every language the store has.
func TestConcurrentCaptionsEndInTheMaster(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testConcurrentCaptionsEndInTheMaster)
}

func testConcurrentCaptionsEndInTheMaster(t *testing.T, p *platform.Process) {
	r := newRig(t, p)
	svc := NewCaptionService(r.store, r.objects)
	v := storetest.ReadyBy(t, r.store, r.owner.ID, video.PrivacyPublic, "Many captions at once")
	ctx := storetest.SignedIn(t.Context(), r.owner)

	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			_, errs[i] = svc.PutCaption(ctx, &pb.PutCaptionRequest{VideoId: v.ID, Language: fmt.Sprintf("en-x-%d", i), Label: fmt.Sprintf("English %d", i), Content: []byte(cue)})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	master := r.object(t, video.MasterPlaylistKey(v.ID))
	for i := range writers {
		lang := fmt.Sprintf("en-x-%d", i)
		if !strings.Contains(master, `LANGUAGE="`+lang+`"`) {
			t.Errorf("the master playlist lacks %s:\n%s", lang, master)
		}
		if pl := r.object(t, video.CaptionPlaylistKey(v.ID, lang)); !strings.Contains(pl, lang+".vtt") {
			t.Errorf("the %s playlist:\n%s", lang, pl)
		}
	}
	if got := strings.Count(master, `SUBTITLES="subs"`); got != len(v.Renditions) {
		t.Errorf("%d variants name the captions, want %d:\n%s", got, len(v.Renditions), master)
	}

	// Deleting every language at once leaves a master with none.
	for i := range writers {
		wg.Go(func() {
			_, errs[i] = svc.DeleteCaption(ctx, &pb.DeleteCaptionRequest{VideoId: v.ID, Language: fmt.Sprintf("en-x-%d", i)})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("deleter %d: %v", i, err)
		}
	}
	if master := r.object(t, video.MasterPlaylistKey(v.ID)); strings.Contains(master, "SUBTITLES") {
		t.Errorf("the master playlist still names captions:\n%s", master)
	}
}

// Captions of a video still being encoded are kept, with no master
// written: the encode writes it when it ends.
func TestCaptionsBeforeTheEncode(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		r := newRig(t, p)
		svc := NewCaptionService(r.store, r.objects)
		v := storetest.UploadedBy(t, r.store, r.owner.ID, video.PrivacyPrivate, "Not encoded yet")
		ctx := storetest.SignedIn(t.Context(), r.owner)
		got, err := svc.PutCaption(ctx, &pb.PutCaptionRequest{VideoId: v.ID, Language: "de", Content: []byte("1\n00:00:01,000 --> 00:00:02,000\nHallo\n")})
		if err != nil || got.GetCaption().GetLabel() != "de" || got.GetPrivacy() != pb.VideoPrivacy_VIDEO_PRIVACY_PRIVATE {
			t.Fatalf("PutCaption = %v, %v", got, err)
		}
		if vtt := r.object(t, video.CaptionKey(v.ID, "de")); vtt != "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nHallo\n" {
			t.Errorf("stored WebVTT:\n%s", vtt)
		}
		if _, err := r.objects.Stat(t.Context(), video.MasterPlaylistKey(v.ID)); err == nil {
			t.Error("a master playlist was written for a video not encoded yet")
		}
	})
}

// Bad files are refused with the line at fault, and nothing is stored.
func TestBadCaptionsRefused(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		r := newRig(t, p)
		svc := NewCaptionService(r.store, r.objects)
		v := storetest.ReadyBy(t, r.store, r.owner.ID, video.PrivacyPublic, "Badly captioned")
		ctx := storetest.SignedIn(t.Context(), r.owner)
		for name, tc := range map[string]struct {
			lang, label, file, says string
		}{
			"backwards cue":  {"en", "", "WEBVTT\n\n00:00:02.000 --> 00:00:01.000\nx\n", "line 3"},
			"not captions":   {"en", "", "hello\nworld\n", "line 1"},
			"not a language": {"english", "", cue, "BCP 47"},
			"quoted label":   {"en", `"x"`, cue, "double quotes"},
		} {
			_, err := svc.PutCaption(ctx, &pb.PutCaptionRequest{VideoId: v.ID, Language: tc.lang, Label: tc.label, Content: []byte(tc.file)})
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), tc.says) {
				t.Errorf("%s: %v; want InvalidArgument saying %q", name, err, tc.says)
			}
		}
		if caps, err := r.store.Captions(t.Context(), v.ID); err != nil || len(caps) != 0 {
			t.Errorf("captions after refusals = %v, %v", caps, err)
		}
		if _, err := r.objects.Stat(t.Context(), video.CaptionKey(v.ID, "en")); err == nil {
			t.Error("a refused file was stored")
		}
		// Someone who may not edit the video may not caption it.
		other := storetest.NewUser(t, r.store, "other-"+v.ID[:8], auth.RoleUser)
		_, err := svc.PutCaption(storetest.SignedIn(context.Background(), other), &pb.PutCaptionRequest{VideoId: v.ID, Language: "en", Content: []byte(cue)})
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("another user's captions: %v, want PermissionDenied", err)
		}
	})
}
