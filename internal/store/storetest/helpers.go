package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/video"
)

// Uploaded adds a public video titled title, without an owner, to s and
// takes it to UPLOADED, as a completed upload does, for the tests of what
// stands on a store.
func Uploaded(t testing.TB, s Store, title string) video.Video {
	t.Helper()
	return uploaded(t, s, draft{title: title})
}

// Ready adds a public video titled title, without an owner, to s and takes
// it through an encode to READY.
func Ready(t testing.TB, s Store, title string) video.Video {
	t.Helper()
	return ready(t, s, draft{title: title})
}

// UploadedBy is Uploaded for a video of the user with id owner, with the
// given privacy.
func UploadedBy(t testing.TB, s Store, owner string, privacy video.Privacy, title string) video.Video {
	t.Helper()
	return uploaded(t, s, draft{title: title, owner: owner, privacy: privacy})
}

// ReadyBy is Ready for a video of the user with id owner, with the given
// privacy.
func ReadyBy(t testing.TB, s Store, owner string, privacy video.Privacy, title string) video.Video {
	t.Helper()
	return ready(t, s, draft{title: title, owner: owner, privacy: privacy})
}

// draft is a video as an upload service creates it.
type draft struct {
	title, description string
	tags               []string
	createdAt          time.Time
	owner              string
	privacy            video.Privacy
	size               int64     // 10 MiB when 0
	expires            time.Time // of the upload session; in an hour when zero
}

func create(t testing.TB, s Store, d draft) video.Video {
	t.Helper()
	if d.size == 0 {
		d.size = 10 << 20
	}
	v := video.Video{
		ID:          uuid.NewString(),
		OwnerID:     d.owner,
		Privacy:     d.privacy,
		Title:       d.title,
		Description: d.description,
		Tags:        d.tags,
		SizeBytes:   d.size,
		ContentType: "video/mp4",
		CreatedAt:   d.createdAt,
	}
	if d.expires.IsZero() {
		d.expires = time.Now().Add(time.Hour)
	}
	u := video.UploadSession{
		VideoID:   v.ID,
		UploadID:  "upload-" + v.ID,
		ObjectKey: video.SourceKey(v.ID),
		SizeBytes: v.SizeBytes,
		PartSize:  5 << 20,
		ExpiresAt: d.expires.Truncate(time.Second),
	}
	if err := s.CreateVideo(ctxFor(t), v, u); err != nil {
		t.Fatalf("CreateVideo: %v", err)
	}
	return v
}

func uploaded(t testing.TB, s Store, d draft) video.Video {
	t.Helper()
	v := create(t, s, d)
	if _, err := s.MarkUploaded(ctxFor(t), v.ID); err != nil {
		t.Fatalf("MarkUploaded: %v", err)
	}
	return v
}

var testEncoded = video.Encoded{
	DurationSeconds: 12.5,
	Width:           1280,
	Height:          720,
	Renditions: []video.Rendition{
		{Name: "720p", Width: 1280, Height: 720, Bandwidth: 3_000_000, AverageBandwidth: 2_400_000, Codecs: "avc1.64001f,mp4a.40.2", FrameRate: 30},
		{Name: "360p", Width: 640, Height: 360, Bandwidth: 900_000, AverageBandwidth: 700_000, Codecs: "avc1.64001e,mp4a.40.2", FrameRate: 29.97},
	},
}

func ready(t testing.TB, s Store, d draft) video.Video {
	t.Helper()
	v := uploaded(t, s, d)
	ctx := ctxFor(t)
	if _, err := s.ClaimEncode(ctx, v.ID, "w-setup", longLease); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	r, err := s.MarkReady(ctx, v.ID, "w-setup", testEncoded)
	if err != nil {
		t.Fatalf("MarkReady: %v", err)
	}
	return r
}

// Failed adds a public video titled title, without an owner, to s and
// takes it through an encode that fails with reason.
func Failed(t testing.TB, s Store, title, reason string) video.Video {
	t.Helper()
	return failed(t, s, draft{title: title}, reason)
}

func failed(t testing.TB, s Store, d draft, reason string) video.Video {
	t.Helper()
	v := uploaded(t, s, d)
	ctx := ctxFor(t)
	if _, err := s.ClaimEncode(ctx, v.ID, "w-setup", longLease); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	f, err := s.MarkFailed(ctx, v.ID, "w-setup", reason)
	if err != nil {
		t.Fatalf("MarkFailed: %v", err)
	}
	return f
}

func get(t *testing.T, s Store, id string) video.Video {
	t.Helper()
	v, err := s.Video(ctxFor(t), id)
	if err != nil {
		t.Fatalf("Video(%s): %v", id, err)
	}
	return v
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func wantState(t *testing.T, s Store, id string, want video.State) video.Video {
	t.Helper()
	v := get(t, s, id)
	if v.State != want {
		t.Fatalf("video %s is %s, want %s", id, v.State, want)
	}
	return v
}

func outboxFor(t *testing.T, s Store, id string) []video.OutboxEntry {
	t.Helper()
	all, err := s.PendingOutbox(ctxFor(t), 1000)
	if err != nil {
		t.Fatalf("PendingOutbox: %v", err)
	}
	var mine []video.OutboxEntry
	for _, e := range all {
		if e.VideoID == id {
			mine = append(mine, e)
		}
	}
	return mine
}

func drainOutbox(t *testing.T, s Store) {
	t.Helper()
	ctx := ctxFor(t)
	all, err := s.PendingOutbox(ctx, 1000)
	if err != nil {
		t.Fatalf("PendingOutbox: %v", err)
	}
	ids := make([]int64, len(all))
	for i, e := range all {
		ids[i] = e.ID
	}
	if err := s.MarkOutboxSent(ctx, ids); err != nil {
		t.Fatalf("MarkOutboxSent: %v", err)
	}
}
