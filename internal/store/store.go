// Package store declares CloudFlix's metadata store port: everything an
// adapter (pgstore on PostgreSQL, sqlitestore embedded) does, with the
// semantics the contract suite in storetest pins down. Services declare the
// smaller interfaces they need in their own packages. The store is the
// source of truth of every video's state; it never talks to other backends.
//
// The package also holds what the adapters do alike beyond their SQL: the
// checks of their inputs, the stored form of renditions, how a scanned row
// becomes a video, why a conditional update matched no row, and the words
// and terms of a search. It must never import an adapter or a database
// driver: the rules here hold whichever database keeps the videos.
package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/propagation"

	"github.com/cloudflix/cloudflix/internal/video"
)

// Store is the metadata store as services use it; opening, closing and
// migrating are the adapter's business. Every change of a video's state is
// conditional on the state it expects (and, for an encode, on the worker
// holding its lease), so that a repeated message or a retried request never
// moves a video backwards. An id that is not ValidID names no video.
type Store interface {
	// Ping checks that the database answers.
	Ping(ctx context.Context) error

	// CreateVideo inserts v in state uploading together with its upload
	// session, in one transaction. v.CreatedAt, when set, is kept (imports
	// and tests); otherwise it is the time of the insert. A malformed or
	// existing id is invalid input (video.IsInvalid).
	CreateVideo(ctx context.Context, v video.Video, u video.UploadSession) error
	// UploadSession returns the open upload session of a video, or
	// ErrNotFound.
	UploadSession(ctx context.Context, videoID string) (video.UploadSession, error)
	// MarkUploaded moves a video from uploading to uploaded, removes its
	// upload session and writes its encode job to the outbox, all in one
	// transaction. A video in any other state gives ErrWrongState; a
	// deleted or absent one, ErrNotFound.
	MarkUploaded(ctx context.Context, videoID string) (video.Video, error)
	// DeleteVideo moves a video from any state but deleted to deleted,
	// removes its upload session and unsent encode jobs, and returns the
	// video as it was before. A worker encoding it loses its lease on the
	// next renewal.
	DeleteVideo(ctx context.Context, videoID string) (video.Video, error)

	// Video returns a video that is not deleted, or ErrNotFound.
	Video(ctx context.Context, id string) (video.Video, error)
	// LatestVideos returns up to limit READY videos, newest first
	// (created_at, then id, descending), strictly after the position
	// `after`; the zero position starts from the newest. A position with a
	// time but no id starts strictly before that time.
	LatestVideos(ctx context.Context, limit int, after video.ListPosition) ([]video.Video, error)
	// AddViews adds counts to the views of each video. Ids that name no
	// video are skipped: counts arrive in batches from a cache and one
	// stale id must not lose the rest.
	AddViews(ctx context.Context, counts map[string]int64) error

	// Search finds READY videos matching every word of query: whole words,
	// prefixes of words, and words with a typo, in titles, tags and
	// descriptions. Hits come best first; a title match ranks above a tag
	// match above a description match. An empty query finds nothing.
	Search(ctx context.Context, query string, limit, offset int) ([]video.SearchHit, error)
	// Suggest completes what a person is typing: up to limit distinct
	// titles of READY videos whose title has every word of prefix (each as
	// a prefix, or corrected for a typo), best match first, then most
	// viewed.
	Suggest(ctx context.Context, prefix string, limit int) ([]string, error)

	// ClaimEncode gives worker the encode of a video for lease: from
	// uploaded, or from processing when the previous holder's lease has run
	// out. The returned Attempt counts claims since upload (or re-encode).
	// A video in any other state, deleted included, or held under a live
	// lease gives ErrWrongState; an absent one ErrNotFound.
	ClaimEncode(ctx context.Context, id, worker string, lease time.Duration) (video.Claim, error)
	// RenewLease extends worker's lease on an encode, or gives ErrLeaseLost
	// when the video is no longer processing under worker's lease, as do
	// SetProgress, MarkReady, MarkFailed and ReleaseEncode.
	RenewLease(ctx context.Context, id, worker string, lease time.Duration) error
	// SetProgress records how far worker's encode has got, 0..1.
	SetProgress(ctx context.Context, id, worker string, progress float64) error
	// MarkReady publishes worker's finished encode: processing to ready
	// with the encode's facts, progress 1 and the lease cleared.
	MarkReady(ctx context.Context, id, worker string, e video.Encoded) (video.Video, error)
	// MarkFailed ends worker's encode: processing to failed with a reason a
	// person can read.
	MarkFailed(ctx context.Context, id, worker, reason string) (video.Video, error)
	// ReleaseEncode gives back worker's encode without a verdict (the
	// worker is shutting down, or hit a transient error): processing to
	// uploaded, with an encode job that becomes due after retryAfter, in
	// one transaction.
	ReleaseEncode(ctx context.Context, id, worker string, retryAfter time.Duration) error
	// Reencode sends a ready or failed video back to uploaded with a fresh
	// count of attempts and an encode job. The old renditions stay until
	// the new encode replaces them, so a ready video keeps playing
	// meanwhile.
	Reencode(ctx context.Context, id string) (video.Video, error)

	// PendingOutbox returns up to limit unsent encode jobs that are due,
	// oldest first.
	PendingOutbox(ctx context.Context, limit int) ([]video.OutboxEntry, error)
	// MarkOutboxSent records that the jobs were published. Marking one
	// twice is harmless.
	MarkOutboxSent(ctx context.Context, ids []int64) error
	// RequeueStuck writes a fresh encode job for every video that the queue
	// seems to have lost: uploaded and unchanged for longer than
	// uploadedFor, or processing under a lease that has run out. A video
	// that already has an unsent job, or one written within uploadedFor, is
	// left alone so that a slow queue is not flooded with duplicates. It
	// returns how many jobs it wrote.
	RequeueStuck(ctx context.Context, uploadedFor time.Duration) (int, error)
	// ExpireLeases makes every encode lease held by a worker whose name
	// starts with ownerPrefix run out now, and returns how many there were.
	// A single-process install calls it at start-up with its own workers'
	// prefix: the process that held them is gone, and the reconciler then
	// requeues those encodes at once instead of after their leases.
	ExpireLeases(ctx context.Context, ownerPrefix string) (int, error)
	// EncodeBacklog counts the videos waiting to be encoded and tells when
	// the one that has waited longest started waiting (zero when none
	// waits).
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
