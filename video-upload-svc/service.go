// Package uploadsvc is the upload service: it opens multipart upload
// sessions in object storage and hands out presigned part URLs, so a video's
// bytes go from the client straight to storage; it checks the declared size
// and type at create and again at complete, creates the video row and asks
// for its encode through the outbox. It never touches the bytes itself.
package uploadsvc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videopb"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// Store is the metadata this service reads and writes.
type Store interface {
	CreateVideo(ctx context.Context, v video.Video, u video.UploadSession) error
	UploadSession(ctx context.Context, videoID string) (video.UploadSession, error)
	MarkUploaded(ctx context.Context, videoID string) (video.Video, error)
	DeleteVideo(ctx context.Context, videoID string) (video.Video, error)
	Video(ctx context.Context, id string) (video.Video, error)
}

// Objects is the multipart side of object storage.
type Objects interface {
	CreateMultipart(ctx context.Context, key, contentType string) (string, error)
	PresignPart(ctx context.Context, key, uploadID string, partNumber int, ttl time.Duration) (string, error)
	ListParts(ctx context.Context, key, uploadID string) ([]blob.Part, error)
	CompleteMultipart(ctx context.Context, key, uploadID string, parts []blob.Part) (blob.ObjectInfo, error)
	AbortMultipart(ctx context.Context, key, uploadID string) error
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
}

// Cache forgets a video's cached info after a change; it never fails the
// change, which is committed already.
type Cache interface {
	Forget(ctx context.Context, ids ...string)
}

// Limits are what an upload may be.
type Limits struct {
	MaxBytes     int64
	PartSize     int64
	SessionTTL   time.Duration
	PresignTTL   time.Duration
	AllowedTypes []string
}

const (
	minPartSize      = 5 << 20 // S3's smallest part but the last
	maxParts         = 10000   // S3's most parts in one upload
	maxSignPerCall   = 1000
	maxTitleRunes    = 200
	maxDescRunes     = 5000
	maxTags          = 20
	maxTagRunes      = 40
	maxFilenameRunes = 255
)

// Service implements the UploadService gRPC API.
type Service struct {
	pb.UnimplementedUploadServiceServer
	store     Store
	objects   Objects
	cache     Cache
	limits    Limits
	enqueued  func() // wakes the outbox relay
	completed *prometheus.CounterVec
	bytes     prometheus.Counter
}

// New returns the service. enqueued is called after a video is marked
// uploaded, to publish its encode job without waiting.
func New(store Store, objects Objects, cache Cache, limits Limits, enqueued func(), reg prometheus.Registerer) *Service {
	s := &Service{store: store, objects: objects, cache: cache, limits: limits, enqueued: enqueued,
		completed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloudflix_uploads_total",
			Help: "Upload sessions by outcome: created, completed, aborted.",
		}, []string{"outcome"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cloudflix_upload_bytes_total",
			Help: "Bytes of completed uploads.",
		}),
	}
	if reg != nil {
		reg.MustRegister(s.completed, s.bytes)
	}
	return s
}

// CreateUpload validates the request, opens a multipart upload and creates
// the video in UPLOADING.
func (s *Service) CreateUpload(ctx context.Context, req *pb.CreateUploadRequest) (*pb.UploadSession, error) {
	v, err := s.newVideo(req)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	key := video.SourceKey(v.ID)
	uploadID, err := s.objects.CreateMultipart(ctx, key, v.ContentType)
	if err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("create upload %s: %w", v.ID, err))
	}
	sess := video.UploadSession{
		VideoID:   v.ID,
		UploadID:  uploadID,
		ObjectKey: key,
		SizeBytes: v.SizeBytes,
		PartSize:  partSize(v.SizeBytes, s.limits.PartSize),
		ExpiresAt: time.Now().Add(s.limits.SessionTTL).UTC().Truncate(time.Second),
	}
	if err := s.store.CreateVideo(ctx, v, sess); err != nil {
		// Leave nothing behind in storage for a video that does not exist.
		if aerr := s.objects.AbortMultipart(context.WithoutCancel(ctx), key, uploadID); aerr != nil {
			slog.WarnContext(ctx, "abort multipart after failed create", "video_id", v.ID, "err", aerr)
		}
		return nil, rpc.Error(ctx, fmt.Errorf("create upload %s: %w", v.ID, err))
	}
	s.completed.WithLabelValues("created").Inc()
	return sessionProto(sess), nil
}

func (s *Service) newVideo(req *pb.CreateUploadRequest) (video.Video, error) {
	title := strings.TrimSpace(req.GetTitle())
	switch {
	case title == "":
		return video.Video{}, video.Invalid("title is required")
	case utf8.RuneCountInString(title) > maxTitleRunes:
		return video.Video{}, video.Invalid("title is longer than %d characters", maxTitleRunes)
	case utf8.RuneCountInString(req.GetDescription()) > maxDescRunes:
		return video.Video{}, video.Invalid("description is longer than %d characters", maxDescRunes)
	case utf8.RuneCountInString(req.GetFilename()) > maxFilenameRunes:
		return video.Video{}, video.Invalid("filename is longer than %d characters", maxFilenameRunes)
	case req.GetSizeBytes() < 0:
		return video.Video{}, video.Invalid("size_bytes must not be negative")
	case req.GetSizeBytes() > s.limits.MaxBytes:
		return video.Video{}, video.Invalid("the file is %s, larger than the %s limit", video.HumanBytes(req.GetSizeBytes()), video.HumanBytes(s.limits.MaxBytes))
	}
	tags, err := normalizeTags(req.GetTags())
	if err != nil {
		return video.Video{}, err
	}
	ctype, err := s.contentType(req.GetContentType(), req.GetFilename())
	if err != nil {
		return video.Video{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return video.Video{}, err
	}
	return video.Video{
		ID:          id.String(),
		Title:       title,
		Description: strings.TrimSpace(req.GetDescription()),
		Tags:        tags,
		State:       video.StateUploading,
		SizeBytes:   req.GetSizeBytes(),
		ContentType: ctype,
	}, nil
}

func (s *Service) contentType(declared, filename string) (string, error) {
	ctype := declared
	if ctype == "" {
		ctype = video.SourceType(filename)
		if ctype == "" {
			return "", video.Invalid("content_type is required (it could not be told from the filename %q)", filename)
		}
	}
	mt, _, err := mime.ParseMediaType(ctype)
	if err != nil {
		return "", video.Invalid("content_type %q is not a media type", ctype)
	}
	if !slices.Contains(s.limits.AllowedTypes, mt) {
		return "", video.Invalid("files of type %s are not accepted; accepted types: %s", mt, strings.Join(s.limits.AllowedTypes, ", "))
	}
	return mt, nil
}

func normalizeTags(in []string) ([]string, error) {
	if len(in) > maxTags {
		return nil, video.Invalid("at most %d tags are allowed", maxTags)
	}
	out := []string{}
	for _, t := range in {
		t = strings.ToLower(strings.Join(strings.Fields(t), " "))
		switch {
		case t == "":
			continue
		case utf8.RuneCountInString(t) > maxTagRunes:
			return nil, video.Invalid("tag %q is longer than %d characters", t, maxTagRunes)
		case !slices.Contains(out, t):
			out = append(out, t)
		}
	}
	return out, nil
}

// partSize is the configured part size, grown (in whole MiB) when the file
// would otherwise need more parts than S3 allows.
func partSize(size, configured int64) int64 {
	p := max(configured, minPartSize)
	if need := (size + maxParts - 1) / maxParts; need > p {
		p = (need + 1<<20 - 1) / (1 << 20) * (1 << 20)
	}
	return p
}

func sessionProto(s video.UploadSession) *pb.UploadSession {
	return &pb.UploadSession{
		VideoId:   s.VideoID,
		SizeBytes: s.SizeBytes,
		PartSize:  s.PartSize,
		PartCount: int32(s.PartCount()),
		ExpiresAt: timestamppb.New(s.ExpiresAt),
	}
}

// openSession returns the video's open upload session, or an error that says
// why there is none.
func (s *Service) openSession(ctx context.Context, videoID string) (video.UploadSession, error) {
	if videoID == "" {
		return video.UploadSession{}, video.Invalid("video_id is required")
	}
	sess, err := s.store.UploadSession(ctx, videoID)
	if errors.Is(err, video.ErrNotFound) {
		return video.UploadSession{}, s.noSession(ctx, videoID)
	}
	if err != nil {
		return video.UploadSession{}, fmt.Errorf("upload session %s: %w", videoID, err)
	}
	return sess, checkOpen(sess)
}

// noSession says why a video has no upload session: there is no such video,
// or its upload is over.
func (s *Service) noSession(ctx context.Context, videoID string) error {
	v, err := s.store.Video(ctx, videoID)
	if err != nil {
		return fmt.Errorf("no upload for video %s: %w", videoID, video.ErrNotFound)
	}
	return fmt.Errorf("video %s is %s, its upload is closed: %w", videoID, v.State, video.ErrWrongState)
}

// checkOpen refuses a session past its expiry.
func checkOpen(sess video.UploadSession) error {
	if time.Now().After(sess.ExpiresAt) {
		return fmt.Errorf("the upload of video %s expired at %s: %w", sess.VideoID, sess.ExpiresAt.Format(time.RFC3339), video.ErrWrongState)
	}
	return nil
}

// GetUpload returns an open session so a client can resume it.
func (s *Service) GetUpload(ctx context.Context, req *pb.GetUploadRequest) (*pb.UploadSession, error) {
	sess, err := s.openSession(ctx, req.GetVideoId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return sessionProto(sess), nil
}

// SignParts presigns PUT URLs for the requested parts.
func (s *Service) SignParts(ctx context.Context, req *pb.SignPartsRequest) (*pb.SignPartsResponse, error) {
	sess, err := s.openSession(ctx, req.GetVideoId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	nums := req.GetPartNumbers()
	switch {
	case len(nums) == 0:
		return nil, rpc.Error(ctx, video.Invalid("part_numbers is required"))
	case len(nums) > maxSignPerCall:
		return nil, rpc.Error(ctx, video.Invalid("at most %d parts can be signed at once", maxSignPerCall))
	}
	expires := timestamppb.New(time.Now().Add(s.limits.PresignTTL))
	resp := &pb.SignPartsResponse{}
	for _, n := range nums {
		if n < 1 || int(n) > sess.PartCount() {
			return nil, rpc.Error(ctx, video.Invalid("part number %d is out of range 1..%d", n, sess.PartCount()))
		}
		url, err := s.objects.PresignPart(ctx, sess.ObjectKey, sess.UploadID, int(n), s.limits.PresignTTL)
		if err != nil {
			return nil, rpc.Error(ctx, fmt.Errorf("sign part %d of %s: %w", n, sess.VideoID, err))
		}
		resp.Parts = append(resp.Parts, &pb.SignedPart{PartNumber: n, Url: url, ExpiresAt: expires})
	}
	return resp, nil
}

// ListParts lists the parts already stored.
func (s *Service) ListParts(ctx context.Context, req *pb.ListPartsRequest) (*pb.ListPartsResponse, error) {
	sess, err := s.openSession(ctx, req.GetVideoId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	parts, err := s.objects.ListParts(ctx, sess.ObjectKey, sess.UploadID)
	if err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("list parts of %s: %w", sess.VideoID, err))
	}
	resp := &pb.ListPartsResponse{}
	for _, p := range parts {
		resp.Parts = append(resp.Parts, &pb.StoredPart{PartNumber: int32(p.Number), SizeBytes: p.Size, Etag: p.ETag})
	}
	return resp, nil
}

// CompleteUpload checks the stored parts against the declared size, joins
// them and moves the video to UPLOADED, which enqueues its encode.
func (s *Service) CompleteUpload(ctx context.Context, req *pb.CompleteUploadRequest) (*pb.Video, error) {
	v, err := s.complete(ctx, req.GetVideoId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	return videopb.ToProto(v), nil
}

func (s *Service) complete(ctx context.Context, id string) (video.Video, error) {
	if id == "" {
		return video.Video{}, video.Invalid("video_id is required")
	}
	draft, err := s.store.Video(ctx, id)
	if err != nil {
		return video.Video{}, fmt.Errorf("no upload for video %s: %w", id, video.ErrNotFound)
	}
	if draft.State != video.StateUploading {
		// A retried complete of an upload that already went through.
		return draft, nil
	}
	sess, err := s.store.UploadSession(ctx, id)
	if err != nil {
		return video.Video{}, fmt.Errorf("upload session %s: %w", id, err)
	}
	if err := checkOpen(sess); err != nil {
		return video.Video{}, err
	}
	// The limits are checked again: they may have changed since the upload
	// was opened.
	if !slices.Contains(s.limits.AllowedTypes, draft.ContentType) {
		return video.Video{}, video.Invalid("files of type %s are no longer accepted; accepted types: %s", draft.ContentType, strings.Join(s.limits.AllowedTypes, ", "))
	}
	parts, err := s.objects.ListParts(ctx, sess.ObjectKey, sess.UploadID)
	if err != nil {
		return video.Video{}, fmt.Errorf("list parts of %s: %w", id, err)
	}
	if err := checkParts(sess, parts, s.limits.MaxBytes); err != nil {
		return video.Video{}, err
	}
	if err := s.assemble(ctx, sess, parts); err != nil {
		return video.Video{}, fmt.Errorf("complete upload of %s: %w", id, err)
	}
	v, err := s.store.MarkUploaded(ctx, id)
	if errors.Is(err, video.ErrWrongState) {
		// A concurrent complete won the race; report where the video is.
		return s.store.Video(ctx, id)
	}
	if err != nil {
		return video.Video{}, fmt.Errorf("mark %s uploaded: %w", id, err)
	}
	s.completed.WithLabelValues("completed").Inc()
	s.bytes.Add(float64(sess.SizeBytes))
	s.cache.Forget(ctx, id)
	s.enqueued()
	return v, nil
}

// assemble joins the parts into the source object. S3 cannot complete a
// multipart upload of no parts, so an empty file is stored directly; the
// encoder then fails it with a reason like any other file it cannot play.
func (s *Service) assemble(ctx context.Context, sess video.UploadSession, parts []blob.Part) error {
	if sess.SizeBytes > 0 {
		_, err := s.objects.CompleteMultipart(ctx, sess.ObjectKey, sess.UploadID, parts)
		return err
	}
	if err := s.objects.AbortMultipart(ctx, sess.ObjectKey, sess.UploadID); err != nil && !errors.Is(err, blob.ErrNotFound) {
		return err
	}
	return s.objects.Put(ctx, sess.ObjectKey, strings.NewReader(""), 0, "application/octet-stream")
}

// checkParts makes sure the stored parts are exactly the declared file.
func checkParts(sess video.UploadSession, parts []blob.Part, maxBytes int64) error {
	want := sess.PartCount()
	if len(parts) != want {
		var missing []string
		have := map[int]bool{}
		for _, p := range parts {
			have[p.Number] = true
		}
		for n := 1; n <= want && len(missing) < 10; n++ {
			if !have[n] {
				missing = append(missing, fmt.Sprint(n))
			}
		}
		return fmt.Errorf("%d of %d parts are stored (missing: %s): %w", len(parts), want, strings.Join(missing, ", "), video.ErrWrongState)
	}
	var total int64
	for i, p := range parts {
		if p.Number != i+1 {
			return fmt.Errorf("part %d is missing: %w", i+1, video.ErrWrongState)
		}
		wantSize := sess.PartSize
		if p.Number == want {
			wantSize = sess.SizeBytes - sess.PartSize*int64(want-1)
		}
		if p.Size != wantSize {
			return fmt.Errorf("part %d is %d bytes, expected %d: %w", p.Number, p.Size, wantSize, video.ErrWrongState)
		}
		total += p.Size
	}
	if total != sess.SizeBytes {
		return fmt.Errorf("uploaded %d bytes, declared %d: %w", total, sess.SizeBytes, video.ErrWrongState)
	}
	if total > maxBytes {
		return video.Invalid("the file is %s, larger than the %s limit", video.HumanBytes(total), video.HumanBytes(maxBytes))
	}
	return nil
}

// AbortUpload discards the stored parts and deletes the video.
func (s *Service) AbortUpload(ctx context.Context, req *pb.AbortUploadRequest) (*pb.AbortUploadResponse, error) {
	id := req.GetVideoId()
	if id == "" {
		return nil, rpc.Error(ctx, video.Invalid("video_id is required"))
	}
	// An expired session is aborted too: that is how its parts go.
	sess, err := s.store.UploadSession(ctx, id)
	if errors.Is(err, video.ErrNotFound) {
		err = s.noSession(ctx, id)
	}
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if err := s.objects.AbortMultipart(ctx, sess.ObjectKey, sess.UploadID); err != nil && !errors.Is(err, blob.ErrNotFound) {
		return nil, rpc.Error(ctx, fmt.Errorf("abort upload of %s: %w", sess.VideoID, err))
	}
	if _, err := s.store.DeleteVideo(ctx, sess.VideoID); err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("delete video %s: %w", sess.VideoID, err))
	}
	s.completed.WithLabelValues("aborted").Inc()
	s.cache.Forget(ctx, sess.VideoID)
	return &pb.AbortUploadResponse{}, nil
}
