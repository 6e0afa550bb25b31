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
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
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
	UpdateVideo(ctx context.Context, id string, change video.Change) (video.Video, error)
	DeleteVideo(ctx context.Context, videoID string) (video.Video, error)
	Video(ctx context.Context, id string) (video.Video, error)
	User(ctx context.Context, id string) (account.User, error)
	UploadUsage(ctx context.Context, owner string, since time.Time) (stored, uploaded int64, err error)
}

// Objects is the multipart side of object storage.
type Objects interface {
	CreateMultipart(ctx context.Context, key, contentType string) (string, error)
	PresignPart(ctx context.Context, key, uploadID string, partNumber int, size int64, ttl time.Duration) (string, error)
	ListParts(ctx context.Context, key, uploadID string) ([]blob.Part, error)
	CompleteMultipart(ctx context.Context, key, uploadID string, parts []blob.Part) (blob.ObjectInfo, error)
	AbortMultipart(ctx context.Context, key, uploadID string) error
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	DeletePrefix(ctx context.Context, prefix string) error
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
	// Quotas are every user's quotas unless an admin set theirs.
	StorageQuota, DailyQuota int64
}

const (
	minPartSize      = 5 << 20 // S3's smallest part but the last
	maxParts         = 10000   // S3's most parts in one upload
	maxSignPerCall   = 1000
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

// CreateUpload validates the request, checks the uploader's quotas, opens a
// multipart upload and creates the video in UPLOADING, theirs.
func (s *Service) CreateUpload(ctx context.Context, req *pb.CreateUploadRequest) (*pb.UploadSession, error) {
	p := auth.FromContext(ctx)
	if !video.CanUpload(p) {
		return nil, rpc.Error(ctx, refuseUpload(p))
	}
	v, err := s.newVideo(req)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	v.OwnerID = p.UserID
	if err := s.checkQuota(ctx, p.UserID, v.SizeBytes); err != nil {
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
	title, err := video.NormalizeTitle(req.GetTitle())
	if err != nil {
		return video.Video{}, err
	}
	description, err := video.NormalizeDescription(req.GetDescription())
	if err != nil {
		return video.Video{}, err
	}
	switch {
	case utf8.RuneCountInString(req.GetFilename()) > maxFilenameRunes:
		return video.Video{}, video.Invalid("filename is longer than %d characters", maxFilenameRunes)
	case req.GetSizeBytes() < 0:
		return video.Video{}, video.Invalid("size_bytes must not be negative")
	case req.GetSizeBytes() > s.limits.MaxBytes:
		return video.Video{}, video.Invalid("the file is %s, larger than the %s limit", video.HumanBytes(req.GetSizeBytes()), video.HumanBytes(s.limits.MaxBytes))
	}
	tags, err := video.NormalizeTags(req.GetTags())
	if err != nil {
		return video.Video{}, err
	}
	privacy := videopb.DomainPrivacy(req.GetPrivacy())
	if privacy == "" {
		privacy = video.PrivacyPublic
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
		Privacy:     privacy,
		Title:       title,
		Description: description,
		Tags:        tags,
		State:       video.StateUploading,
		SizeBytes:   req.GetSizeBytes(),
		ContentType: ctype,
	}, nil
}

// refuseUpload says why p may not upload: nobody is signed in, or the
// credential does not allow it.
func refuseUpload(p auth.Principal) error {
	if p.Anonymous() {
		return fmt.Errorf("uploading a video: %w", video.ErrUnauthenticated)
	}
	return fmt.Errorf("uploading needs a session or a token with the upload scope: %w", video.ErrForbidden)
}

// checkQuota refuses an upload of size more bytes that would take the user
// over their storage or daily quota.
func (s *Service) checkQuota(ctx context.Context, userID string, size int64) error {
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return fmt.Errorf("quota of %s: %w", userID, err)
	}
	stored, uploaded, err := s.store.UploadUsage(ctx, userID, time.Now().Add(-24*time.Hour))
	if err != nil {
		return fmt.Errorf("quota of %s: %w", userID, err)
	}
	storage, daily := u.Effective(s.limits.StorageQuota, s.limits.DailyQuota)
	return account.Quota{Storage: storage, Daily: daily, Stored: stored, UploadedToday: uploaded}.Allows(size)
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
// why there is none. Only the uploader (or an admin) sees an upload.
func (s *Service) openSession(ctx context.Context, videoID string) (video.UploadSession, error) {
	sess, err := s.session(ctx, videoID)
	if err != nil {
		return video.UploadSession{}, err
	}
	return sess, checkOpen(sess)
}

// session returns the video's upload session, expired or not, when the
// caller may act on it.
func (s *Service) session(ctx context.Context, videoID string) (video.UploadSession, error) {
	if videoID == "" {
		return video.UploadSession{}, video.Invalid("video_id is required")
	}
	p := auth.FromContext(ctx)
	if p.Anonymous() {
		return video.UploadSession{}, fmt.Errorf("the upload of video %s: %w", videoID, video.ErrUnauthenticated)
	}
	sess, err := s.store.UploadSession(ctx, videoID)
	if errors.Is(err, video.ErrNotFound) {
		return video.UploadSession{}, s.noSession(ctx, p, videoID)
	}
	if err != nil {
		return video.UploadSession{}, fmt.Errorf("upload session %s: %w", videoID, err)
	}
	if !video.CanManageEncode(p, video.Video{OwnerID: sess.OwnerID}) {
		// Someone else's upload is not there, as far as p can tell.
		return video.UploadSession{}, fmt.Errorf("no upload for video %s: %w", videoID, video.ErrNotFound)
	}
	return sess, nil
}

// noSession says why a video has no upload session: there is no such video
// (that p may see), or its upload is over.
func (s *Service) noSession(ctx context.Context, p auth.Principal, videoID string) error {
	v, err := s.store.Video(ctx, videoID)
	if err != nil || !video.CanManageEncode(p, v) {
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

// SignParts presigns PUT URLs for the requested parts, each bound to its
// exact length, and only for parts within the window: storage holds what a
// client has sent, and an upload's URLs may run at most maxPartsAhead
// missing parts ahead of it.
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
	for _, n := range nums {
		if n < 1 || int(n) > sess.PartCount() {
			return nil, rpc.Error(ctx, video.Invalid("part number %d is out of range 1..%d", n, sess.PartCount()))
		}
	}
	stored, err := s.objects.ListParts(ctx, sess.ObjectKey, sess.UploadID)
	if err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("list parts of %s: %w", sess.VideoID, err))
	}
	if n, ok := beyondWindow(sess, stored, nums); ok {
		return nil, tooFarAhead(n)
	}
	expires := timestamppb.New(time.Now().Add(s.limits.PresignTTL))
	resp := &pb.SignPartsResponse{}
	for _, n := range nums {
		url, err := s.objects.PresignPart(ctx, sess.ObjectKey, sess.UploadID, int(n), sess.PartLength(int(n)), s.limits.PresignTTL)
		if err != nil {
			return nil, rpc.Error(ctx, fmt.Errorf("sign part %d of %s: %w", n, sess.VideoID, err))
		}
		resp.Parts = append(resp.Parts, &pb.SignedPart{PartNumber: n, Url: url, ExpiresAt: expires})
	}
	return resp, nil
}

// maxPartsAhead bounds the parts of one upload that may have URLs out
// while storage does not hold them: a part is signed only when at most
// this many parts up to it are missing. Missing parts are only ever
// stored, never lost, so every URL out for a missing part stays within the
// bound. On S3, which takes the PUTs itself, this is what bounds the
// parts of an upload in flight at once; CloudFlix's clients send 4 and
// sign 16 ahead, far inside it.
const maxPartsAhead = 64

// beyondWindow returns the first of nums that more than maxPartsAhead
// missing parts precede (itself included). A part counts as stored only
// when it has its exact length: a short one is sent again.
func beyondWindow(sess video.UploadSession, stored []blob.Part, nums []int32) (int32, bool) {
	held := make(map[int]bool, len(stored))
	for _, p := range stored {
		if p.Number >= 1 && p.Number <= sess.PartCount() && p.Size == sess.PartLength(p.Number) {
			held[p.Number] = true
		}
	}
	// rank[n] counts the missing parts 1..n; only ranks up to the highest
	// part asked for are needed.
	top := int(slices.Max(nums))
	missing, rank := 0, make([]int, top+1)
	for n := 1; n <= top; n++ {
		if !held[n] {
			missing++
		}
		rank[n] = missing
	}
	for _, n := range nums {
		if rank[n] > maxPartsAhead {
			return n, true
		}
	}
	return 0, false
}

// tooFarAhead refuses to sign part n until more of the parts before it
// are stored; the edge answers 429 with Retry-After, which clients wait.
func tooFarAhead(n int32) error {
	msg := fmt.Sprintf("part %d is more than %d missing parts ahead of what storage holds; send the earlier parts first", n, maxPartsAhead)
	st := status.New(codes.ResourceExhausted, msg)
	if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Second)}); err == nil {
		st = d
	}
	return st.Err()
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
	p := auth.FromContext(ctx)
	if p.Anonymous() {
		return video.Video{}, fmt.Errorf("completing the upload of video %s: %w", id, video.ErrUnauthenticated)
	}
	draft, err := s.store.Video(ctx, id)
	if err != nil || !video.CanManageEncode(p, draft) {
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
	// The quotas again: other uploads of the user's may have completed
	// since. This video is counted already, so nothing more may be added.
	if draft.OwnerID != "" {
		if err := s.checkQuota(ctx, draft.OwnerID, 0); err != nil {
			return video.Video{}, err
		}
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
		if wantSize := sess.PartLength(p.Number); p.Size != wantSize {
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
	// An expired session is aborted too: that is how its parts go.
	sess, err := s.session(ctx, id)
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

// UpdateVideo changes a video's details and privacy: its owner's,
// moderators' and admins' to change.
func (s *Service) UpdateVideo(ctx context.Context, req *pb.UpdateVideoRequest) (*pb.Video, error) {
	v, err := s.editable(ctx, req.GetId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	change := video.Change{Title: req.Title, Description: req.Description, CommentsOff: req.CommentsOff}
	if req.GetTags() != nil {
		tags := req.GetTags().GetTags()
		change.Tags = &tags
	}
	if p := videopb.DomainPrivacy(req.GetPrivacy()); p != "" {
		change.Privacy = &p
	}
	change, err = change.Normalize()
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if change.Empty() {
		return videopb.ToProto(v), nil
	}
	updated, err := s.store.UpdateVideo(ctx, v.ID, change)
	if err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("update video %s: %w", v.ID, err))
	}
	s.cache.Forget(ctx, v.ID)
	return videopb.ToProto(updated), nil
}

// DeleteVideo deletes a video and everything stored of it. Storage goes
// first, while the video still says whose it is, so that a delete cut short
// is finished by the next one; then the video, which also makes a worker
// still encoding it stop before it publishes; then storage once more, for
// what such a worker wrote in between.
func (s *Service) DeleteVideo(ctx context.Context, req *pb.DeleteVideoRequest) (*pb.DeleteVideoResponse, error) {
	v, err := s.editable(ctx, req.GetId())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if err := s.removeObjects(ctx, v.ID); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if _, err := s.store.DeleteVideo(ctx, v.ID); err != nil && !errors.Is(err, video.ErrNotFound) {
		return nil, rpc.Error(ctx, fmt.Errorf("delete video %s: %w", v.ID, err))
	}
	s.cache.Forget(ctx, v.ID)
	if err := s.removeObjects(ctx, v.ID); err != nil {
		slog.WarnContext(ctx, "second sweep of a deleted video's objects failed", "video_id", v.ID, "err", err)
	}
	s.completed.WithLabelValues("deleted").Inc()
	return &pb.DeleteVideoResponse{}, nil
}

// editable returns the video with id when the caller may change it.
func (s *Service) editable(ctx context.Context, id string) (video.Video, error) {
	if id == "" {
		return video.Video{}, video.Invalid("id is required")
	}
	v, err := s.store.Video(ctx, id)
	if err != nil {
		return video.Video{}, fmt.Errorf("video %s: %w", id, err)
	}
	if p := auth.FromContext(ctx); !video.CanEdit(p, v) {
		return video.Video{}, fmt.Errorf("changing video %s: %w", id, video.Refusal(p, v))
	}
	return v, nil
}

// removeObjects removes what storage holds of a video: an open upload's
// parts, the source, and every output.
func (s *Service) removeObjects(ctx context.Context, id string) error {
	if sess, err := s.store.UploadSession(ctx, id); err == nil {
		if err := s.objects.AbortMultipart(ctx, sess.ObjectKey, sess.UploadID); err != nil && !errors.Is(err, blob.ErrNotFound) {
			return fmt.Errorf("abort upload of %s: %w", id, err)
		}
	} else if !errors.Is(err, video.ErrNotFound) {
		return fmt.Errorf("upload session of %s: %w", id, err)
	}
	// Video ids are UUIDs, all of one length, so the source's key is a
	// prefix of no other key.
	if err := s.objects.DeletePrefix(ctx, video.SourceKey(id)); err != nil {
		return fmt.Errorf("delete source of %s: %w", id, err)
	}
	if err := s.objects.DeletePrefix(ctx, video.VideoPrefix(id)); err != nil {
		return fmt.Errorf("delete media of %s: %w", id, err)
	}
	return nil
}
