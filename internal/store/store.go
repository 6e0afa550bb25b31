// Package store declares CloudFlix's metadata store port: everything an
// adapter (pgstore on PostgreSQL, sqlitestore embedded) does, with the
// semantics the contract suite in storetest pins down. Services declare the
// smaller interfaces they need in their own packages. The store is the
// source of truth of every video's state; it never talks to other backends.
package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/propagation"

	"github.com/cloudflix/cloudflix/internal/video"
)

// Store is the metadata store as services use it; opening, closing and
// migrating are the adapter's business.
type Store interface {
	Ping(ctx context.Context) error

	CreateVideo(ctx context.Context, v video.Video, u video.UploadSession) error
	UploadSession(ctx context.Context, videoID string) (video.UploadSession, error)
	MarkUploaded(ctx context.Context, videoID string) (video.Video, error)
	DeleteVideo(ctx context.Context, videoID string) (video.Video, error)

	Video(ctx context.Context, id string) (video.Video, error)
	LatestVideos(ctx context.Context, limit int, after video.ListPosition) ([]video.Video, error)
	AddViews(ctx context.Context, counts map[string]int64) error

	Search(ctx context.Context, query string, limit, offset int) ([]video.SearchHit, error)
	Suggest(ctx context.Context, prefix string, limit int) ([]string, error)

	ClaimEncode(ctx context.Context, id, worker string, lease time.Duration) (video.Claim, error)
	RenewLease(ctx context.Context, id, worker string, lease time.Duration) error
	SetProgress(ctx context.Context, id, worker string, progress float64) error
	MarkReady(ctx context.Context, id, worker string, e video.Encoded) (video.Video, error)
	MarkFailed(ctx context.Context, id, worker, reason string) (video.Video, error)
	ReleaseEncode(ctx context.Context, id, worker string, retryAfter time.Duration) error
	Reencode(ctx context.Context, id string) (video.Video, error)

	PendingOutbox(ctx context.Context, limit int) ([]video.OutboxEntry, error)
	MarkOutboxSent(ctx context.Context, ids []int64) error
	RequeueStuck(ctx context.Context, uploadedFor time.Duration) (int, error)
	ExpireLeases(ctx context.Context, ownerPrefix string) (int, error)
	EncodeBacklog(ctx context.Context) (waiting int, oldest time.Time, err error)
}

// ValidID reports whether id is a video id as the stores write them: a
// canonical lower-case UUID. Anything else names no video.
func ValidID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}

// NewVideo checks a video and its upload session as CreateVideo is given
// them, and completes them for the insert: the session's video id defaults
// to the video's, and no tags are an empty list, never NULL.
func NewVideo(v video.Video, u video.UploadSession) (video.Video, video.UploadSession, error) {
	if !ValidID(v.ID) {
		return video.Video{}, video.UploadSession{}, video.Invalid("video id %q is not a canonical UUID", v.ID)
	}
	if u.VideoID == "" {
		u.VideoID = v.ID
	}
	if u.VideoID != v.ID {
		return video.Video{}, video.UploadSession{}, video.Invalid("upload session is for video %q, not %q", u.VideoID, v.ID)
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	return v, u, nil
}

// CheckListPosition refuses a LatestVideos position whose id cannot name a
// video: it is the caller's mistake, not the end of the list.
func CheckListPosition(after video.ListPosition) error {
	if after.ID != "" && !ValidID(after.ID) {
		return video.Invalid("list position id %q is not a video id", after.ID)
	}
	return nil
}

// ViewCounts is the part of AddViews' counts that a store applies, as two
// parallel lists. Counts of zero change nothing, and an id that cannot name
// a video is skipped rather than failing the batch it came in.
func ViewCounts(counts map[string]int64) (ids []string, ns []int64) {
	ids = make([]string, 0, len(counts))
	ns = make([]int64, 0, len(counts))
	for id, n := range counts {
		if n != 0 && ValidID(id) {
			ids = append(ids, id)
			ns = append(ns, n)
		}
	}
	return ids, ns
}

// TraceParent is the W3C traceparent of the span in ctx, or "": adapters
// keep it with each outbox entry so that the job joins the request's trace.
func TraceParent(ctx context.Context) string {
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	return carrier.Get("traceparent")
}
