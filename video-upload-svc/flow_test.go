package uploadsvc

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videocache"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

type rig struct {
	svc      *Service
	owner    account.User // the uploader the tests act as
	store    store.Store
	objects  blob.Store
	parts    string // base URL that part URLs resolve against
	enqueued int
}

// newRig runs the service on the backends of p, with local storage's part
// endpoint on a real HTTP server as the router would serve it.
func newRig(t *testing.T, p *platform.Process) *rig {
	t.Helper()
	ctx := t.Context()
	db, err := p.Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Cache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	objects, parts := platformtest.Storage(t, p)
	r := &rig{store: db, objects: objects, parts: parts, owner: storetest.NewUser(t, db, testenv.Name("up"), auth.RoleUser)}
	r.svc = New(db, objects, videocache.New(c, time.Minute, nil), Limits{
		MaxBytes: 64 << 20, PartSize: 5 << 20, SessionTTL: time.Hour, PresignTTL: time.Minute,
		AllowedTypes: []string{"video/mp4"}, StorageQuota: 1 << 30, DailyQuota: 1 << 30,
	}, func() { r.enqueued++ }, nil)
	return r
}

// put sends every part of data to its presigned URL.
func (r *rig) put(t *testing.T, sess *pb.UploadSession, data []byte, only ...int32) {
	t.Helper()
	nums := only
	if len(nums) == 0 {
		for n := int32(1); n <= sess.GetPartCount(); n++ {
			nums = append(nums, n)
		}
	}
	signed, err := r.svc.SignParts(storetest.SignedIn(t.Context(), r.owner), &pb.SignPartsRequest{VideoId: sess.GetVideoId(), PartNumbers: nums})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range signed.GetParts() {
		off := int64(p.GetPartNumber()-1) * sess.GetPartSize()
		end := min(off+sess.GetPartSize(), int64(len(data)))
		if code := r.putTo(t, p.GetUrl(), data[off:end]); code != http.StatusOK {
			t.Fatalf("PUT part %d = %d", p.GetPartNumber(), code)
		}
	}
}

// putTo PUTs body to a part URL and returns the status storage answered.
func (r *rig) putTo(t *testing.T, partURL string, body []byte) int {
	t.Helper()
	code, err := platformtest.PutPart(t.Context(), r.parts, partURL, body)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestUploadToUploaded(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testUploadToUploaded)
}

func testUploadToUploaded(t *testing.T, p *platform.Process) {
	r := newRig(t, p)
	ctx := storetest.SignedIn(t.Context(), r.owner)
	data := make([]byte, 12<<20)
	_, _ = rand.Read(data)
	sess, err := r.svc.CreateUpload(ctx, &pb.CreateUploadRequest{Title: "Harbour", Filename: "h.mp4", SizeBytes: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	if sess.GetPartCount() != 3 {
		t.Fatalf("part count = %d", sess.GetPartCount())
	}
	r.put(t, sess, data, 1, 3)

	// Completing with a part missing is refused and loses nothing.
	_, err = r.svc.CompleteUpload(ctx, &pb.CompleteUploadRequest{VideoId: sess.GetVideoId()})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("complete with a part missing: %v", err)
	}
	stored, err := r.svc.ListParts(ctx, &pb.ListPartsRequest{VideoId: sess.GetVideoId()})
	if err != nil || len(stored.GetParts()) != 2 {
		t.Fatalf("parts after a refused complete = %v, %v", stored, err)
	}

	r.put(t, sess, data, 2)
	v, err := r.svc.CompleteUpload(ctx, &pb.CompleteUploadRequest{VideoId: sess.GetVideoId()})
	if err != nil || v.GetState() != pb.VideoState_VIDEO_STATE_UPLOADED || r.enqueued != 1 {
		t.Fatalf("complete = %v, %v (enqueued %d)", v, err, r.enqueued)
	}
	obj, err := r.objects.Open(ctx, video.SourceKey(sess.GetVideoId()))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(obj)
	obj.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("the stored source differs from the uploaded file")
	}
	// A retried complete answers with the video as it is.
	again, err := r.svc.CompleteUpload(ctx, &pb.CompleteUploadRequest{VideoId: sess.GetVideoId()})
	if err != nil || again.GetId() != v.GetId() || r.enqueued != 1 {
		t.Fatalf("second complete = %v, %v", again, err)
	}
}

func TestLimitsAreCheckedAgainAtComplete(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testLimitsAreCheckedAgainAtComplete)
}

func testLimitsAreCheckedAgainAtComplete(t *testing.T, p *platform.Process) {
	r := newRig(t, p)
	ctx := storetest.SignedIn(t.Context(), r.owner)
	data := []byte("a small file")
	sess, err := r.svc.CreateUpload(ctx, &pb.CreateUploadRequest{Title: "Small", ContentType: "video/mp4", SizeBytes: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	r.put(t, sess, data)
	r.svc.limits.AllowedTypes = []string{"video/webm"} // the operator tightened the limits meanwhile
	_, err = r.svc.CompleteUpload(ctx, &pb.CompleteUploadRequest{VideoId: sess.GetVideoId()})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("complete of a type no longer accepted: %v", err)
	}
	if v, _ := r.store.Video(ctx, sess.GetVideoId()); v.State != video.StateUploading {
		t.Fatalf("a refused complete moved the video to %s", v.State)
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testAbortLeavesNothing)
}

func testAbortLeavesNothing(t *testing.T, p *platform.Process) {
	r := newRig(t, p)
	ctx := storetest.SignedIn(context.Background(), r.owner)
	sess, err := r.svc.CreateUpload(ctx, &pb.CreateUploadRequest{Title: "Gone", ContentType: "video/mp4", SizeBytes: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.AbortUpload(ctx, &pb.AbortUploadRequest{VideoId: sess.GetVideoId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.store.Video(ctx, sess.GetVideoId()); err == nil {
		t.Fatal("an aborted video can still be read")
	}
	if _, err := r.svc.SignParts(ctx, &pb.SignPartsRequest{VideoId: sess.GetVideoId(), PartNumbers: []int32{1}}); status.Code(err) != codes.NotFound {
		t.Fatalf("signing parts of an aborted upload: %v", err)
	}
}

// Complete and abort clear the cached info they change: a reader that has
// the uploading video cached sees it uploaded, or gone, on its very next
// read.
func TestWritersClearTheCache(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testWritersClearTheCache)
}

func testWritersClearTheCache(t *testing.T, p *platform.Process) {
	r := newRig(t, p)
	ctx := storetest.SignedIn(t.Context(), r.owner)
	c, err := p.Cache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reader := videocache.New(c, time.Hour, nil)
	read := func(id string) (video.Video, error) { return reader.Video(ctx, id, r.store.Video) }

	data := []byte("twelve bytes")
	done, err := r.svc.CreateUpload(ctx, &pb.CreateUploadRequest{Title: "Completed", ContentType: "video/mp4", SizeBytes: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := read(done.GetVideoId()); err != nil || v.State != video.StateUploading {
		t.Fatalf("before complete: %v, %v", v.State, err)
	}
	r.put(t, done, data)
	if _, err := r.svc.CompleteUpload(ctx, &pb.CompleteUploadRequest{VideoId: done.GetVideoId()}); err != nil {
		t.Fatal(err)
	}
	if v, err := read(done.GetVideoId()); err != nil || v.State != video.StateUploaded {
		t.Fatalf("the read after complete shows %v (%v), want uploaded: the cached uploading video was kept", v.State, err)
	}

	gone, err := r.svc.CreateUpload(ctx, &pb.CreateUploadRequest{Title: "Aborted", ContentType: "video/mp4", SizeBytes: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := read(gone.GetVideoId()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.AbortUpload(ctx, &pb.AbortUploadRequest{VideoId: gone.GetVideoId()}); err != nil {
		t.Fatal(err)
	}
	if v, err := read(gone.GetVideoId()); !errors.Is(err, video.ErrNotFound) {
		t.Fatalf("the read after abort = %v, %v; want not found: the cached video outlived its abort", v.State, err)
	}
}

func TestSignedPartsAreBounded(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testSignedPartsAreBounded)
}

// Each part URL takes exactly its part's length, the last part's too, and
// URLs go out only for parts within the window ahead of what is stored.
func testSignedPartsAreBounded(t *testing.T, p *platform.Process) {
	r := newRig(t, p)
	r.svc.limits.MaxBytes = 1 << 30
	ctx := storetest.SignedIn(t.Context(), r.owner)
	const partSize = 5 << 20
	count := maxPartsAhead + 6
	sess, err := r.svc.CreateUpload(ctx, &pb.CreateUploadRequest{Title: "Long", ContentType: "video/mp4", SizeBytes: int64(count)*partSize - 3})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(nums ...int32) (*pb.SignPartsResponse, error) {
		return r.svc.SignParts(ctx, &pb.SignPartsRequest{VideoId: sess.GetVideoId(), PartNumbers: nums})
	}
	var window []int32
	for n := int32(1); n <= maxPartsAhead; n++ {
		window = append(window, n)
	}
	if signed, err := sign(window...); err != nil || len(signed.GetParts()) != maxPartsAhead {
		t.Fatalf("signing the first %d parts: %d signed, %v", maxPartsAhead, len(signed.GetParts()), err)
	}
	for _, n := range []int32{maxPartsAhead + 1, int32(count)} {
		_, err := sign(1, n)
		if status.Code(err) != codes.ResourceExhausted || !hasRetryInfo(err) {
			t.Fatalf("signing part %d with none stored: %v, want ResourceExhausted with a retry delay", n, err)
		}
	}
	part := make([]byte, partSize)
	_, _ = rand.Read(part)
	r.put(t, sess, part, 1)
	if _, err := sign(maxPartsAhead + 1); err != nil {
		t.Fatalf("signing part %d once part 1 is stored: %v", maxPartsAhead+1, err)
	}

	// The last part's URL takes the rest of the file, and nothing else.
	small, err := r.svc.CreateUpload(ctx, &pb.CreateUploadRequest{Title: "Two parts", ContentType: "video/mp4", SizeBytes: partSize + 3})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := r.svc.SignParts(ctx, &pb.SignPartsRequest{VideoId: small.GetVideoId(), PartNumbers: []int32{2}})
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range [][]byte{part[:partSize], part[:4], part[:2]} {
		// A server may refuse a body longer than the signed length before
		// reading it all, closing the connection while it is being sent:
		// that is a refusal too.
		code, err := platformtest.PutPart(t.Context(), r.parts, signed.GetParts()[0].GetUrl(), body)
		if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if code/100 != 4 {
			t.Errorf("PUT of %d bytes to the URL of a 3-byte last part: %d, want a 4xx refusal", len(body), code)
		}
	}
	if code := r.putTo(t, signed.GetParts()[0].GetUrl(), part[:3]); code != http.StatusOK {
		t.Errorf("PUT of the last part's 3 bytes: %d, want 200", code)
	}
}

func hasRetryInfo(err error) bool {
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay().AsDuration() > 0 {
			return true
		}
	}
	return false
}
