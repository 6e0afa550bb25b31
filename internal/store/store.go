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

	"github.com/cloudflix/cloudflix/internal/account"
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
	// session, in one transaction, with v.OwnerID (a user, or "" for none)
	// and v.Privacy (public when empty). v.CreatedAt, when set, is kept
	// (imports and tests); otherwise it is the time of the insert. A
	// malformed or existing id is invalid input (video.IsInvalid).
	CreateVideo(ctx context.Context, v video.Video, u video.UploadSession) error
	// ImportVideos adds videos that are READY already, as a catalogue
	// import brings them: each with its owner (a user's id, or ""), privacy
	// (public when empty), title, description, tags, the facts of its
	// encode (DurationSeconds, Width, Height, Renditions), views, size,
	// content type and creation time (the time of the import when zero), in
	// one transaction: all of them or none. Search, suggestions and the
	// latest list find the public ones at once, as if each had been
	// uploaded and encoded. A malformed or existing id (within vs too), or
	// an owner who is no user, is invalid input (video.IsInvalid).
	ImportVideos(ctx context.Context, vs []video.Video) error
	// UploadSession returns the open upload session of a video, with the
	// video's owner (OwnerID), or ErrNotFound.
	UploadSession(ctx context.Context, videoID string) (video.UploadSession, error)
	// MarkUploaded moves a video from uploading to uploaded, removes its
	// upload session and writes its encode job to the outbox, all in one
	// transaction. A video in any other state gives ErrWrongState; a
	// deleted or absent one, ErrNotFound.
	MarkUploaded(ctx context.Context, videoID string) (video.Video, error)
	// DeleteVideo moves a video from any state but deleted to deleted,
	// removes its upload session and unsent encode jobs, writes its
	// video.deleted webhook event (Webhooks), and returns the video as it
	// was before. A worker encoding it loses its lease on the next
	// renewal.
	DeleteVideo(ctx context.Context, videoID string) (video.Video, error)

	// UpdateVideo applies change to a video that is not deleted and
	// returns it as it now is; ErrNotFound for a deleted or absent one. A
	// changed title, tags or description change what search finds.
	UpdateVideo(ctx context.Context, id string, change video.Change) (video.Video, error)

	// Video returns a video that is not deleted, with its owner's username,
	// or ErrNotFound.
	Video(ctx context.Context, id string) (video.Video, error)
	// ChannelVideos returns up to limit videos of the user with id owner,
	// newest first, after the position `after` as LatestVideos does: with
	// everything false only the READY public ones; with everything true
	// every one in any state and privacy but deleted.
	ChannelVideos(ctx context.Context, owner string, everything bool, limit int, after video.ListPosition) ([]video.Video, error)
	// UploadUsage is what the user with id owner has stored (the declared
	// sizes of their videos that are not deleted) and how many bytes of
	// uploads they opened at or after since.
	UploadUsage(ctx context.Context, owner string, since time.Time) (stored, uploaded int64, err error)
	// LatestVideos returns up to limit READY public videos, newest first
	// (created_at, then id, descending), strictly after the position
	// `after`; the zero position starts from the newest. A position with a
	// time but no id starts strictly before that time.
	LatestVideos(ctx context.Context, limit int, after video.ListPosition) ([]video.Video, error)
	// AddViews adds counts to the views of each video, and as many views
	// now to its trending score (Engagement). Ids that name no
	// video are skipped: counts arrive in batches from a cache and one
	// stale id must not lose the rest.
	AddViews(ctx context.Context, counts map[string]int64) error

	// Search finds READY public videos matching every word of query: whole words,
	// prefixes of words, and words with a typo, in titles, tags and
	// descriptions. Hits come best first (store.Rank); a title match ranks
	// above a tag match above a description match. However many videos
	// match, only the bounded candidates of search.go's bounds are ranked,
	// and pages past them are empty. An empty query finds nothing.
	Search(ctx context.Context, query string, limit, offset int) ([]video.SearchHit, error)
	// Suggest completes what a person is typing: up to limit distinct
	// titles of READY public videos whose title has every word of prefix (each as
	// a prefix, or corrected for a typo), best match first, then most
	// viewed, of the newest MaxSuggestCandidates such titles.
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
	// with the encode's facts, progress 1 and the lease cleared, with its
	// video.ready webhook event in the same transaction.
	MarkReady(ctx context.Context, id, worker string, e video.Encoded) (video.Video, error)
	// MarkFailed ends worker's encode: processing to failed with a reason a
	// person can read, with its video.failed webhook event in the same
	// transaction.
	MarkFailed(ctx context.Context, id, worker, reason string) (video.Video, error)
	// ReleaseEncode gives back worker's encode without a verdict (the
	// worker is shutting down, or hit a transient error): processing to
	// uploaded, with an encode job that becomes due after retryAfter, in
	// one transaction.
	ReleaseEncode(ctx context.Context, id, worker string, retryAfter time.Duration) error
	// Reencode sends a ready or failed video back to uploaded with a fresh
	// count of attempts and an encode job. The old renditions stay until
	// the new encode replaces them, so a ready video keeps playing
	// meanwhile. A video whose source was dropped (DropFailedSources) gives
	// ErrWrongState.
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

	Janitor
	Accounts
	Engagement
	Webhooks
	Moderation
	Playlists
	Captions
	Comments
	Playback
	Chunks
}

// Janitor is the part of the store that the janitor cleans up with. Ages
// are measured by the database's clock.
type Janitor interface {
	// TakeLease gives the lease called name to holder for ttl, when no one
	// else holds it (it is free, or has run out); a holder takes its own
	// again to renew it. It reports whether holder holds it now.
	TakeLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// ExpiredUploads returns up to limit open upload sessions past their
	// expiry, the longest expired first, each with its video's owner.
	ExpiredUploads(ctx context.Context, limit int) ([]video.UploadSession, error)
	// PurgeOutbox deletes up to limit encode jobs sent longer than sentFor
	// ago, oldest first, and returns how many it deleted. Unsent jobs stay
	// whatever their age.
	PurgeOutbox(ctx context.Context, sentFor time.Duration, limit int) (int, error)
	// DropFailedSources records that up to limit failed videos, unchanged
	// for longer than failedFor, keep no source, and returns their ids:
	// the caller removes the objects. Such a video stays failed with its
	// reason, and Reencode refuses it from then on (ErrWrongState).
	DropFailedSources(ctx context.Context, failedFor time.Duration, limit int) ([]string, error)
	// LiveVideos returns, of ids, those that name a video that is not
	// deleted, each with whether it keeps its source: the owners of what
	// storage holds. An id that names no such video (or none at all) is
	// absent.
	LiveVideos(ctx context.Context, ids []string) (map[string]bool, error)
}

// Accounts is the part of the store that keeps users and their
// credentials. Secrets are stored only as the hashes the caller gives.
// Usernames and e-mail addresses are unique whatever their case, and kept
// lower-cased (FoldName). Ids are canonical UUIDs; an id that is not one
// names nothing (ErrNotFound). An id or a creation time the caller leaves
// empty is filled in (NewUser, NewSession, NewToken, NewInvite); an expiry
// is required.
type Accounts interface {
	// CreateUser inserts u with the password hash (empty for an account
	// that signs in only through an OpenID provider) and returns it as
	// stored. A username or e-mail already used gives account.ErrTaken.
	// When u is the install's first admin, every video without an owner
	// becomes theirs in the same transaction: the videos of an install
	// from before accounts.
	CreateUser(ctx context.Context, u account.User, passwordHash string) (account.User, error)
	// User returns the user with id, or ErrNotFound.
	User(ctx context.Context, id string) (account.User, error)
	// UserByName returns the user with that username, or ErrNotFound.
	UserByName(ctx context.Context, username string) (account.User, error)
	// UserByLogin returns the user whose username or e-mail is login, with
	// their password hash, or ErrNotFound.
	UserByLogin(ctx context.Context, login string) (account.User, string, error)
	// Users returns up to limit users ordered by username, after the
	// username `after` ("" starts at the first).
	Users(ctx context.Context, limit int, after string) ([]account.User, error)
	// UpdateUser applies change and returns the user as now stored. A user
	// made an admin when the install has no other adopts the videos
	// without an owner, as the first admin created does.
	UpdateUser(ctx context.Context, id string, change account.Change) (account.User, error)
	// SetPassword replaces a user's password hash and ends every session
	// of theirs but keep (a session id, or "").
	SetPassword(ctx context.Context, id, passwordHash, keep string) error

	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s account.Session) error
	// SessionByHash returns the unexpired session with that hash and its
	// user, and records now as its last use (at most once a minute, so
	// that reads stay cheap); ErrNotFound when there is none.
	SessionByHash(ctx context.Context, hash string, now time.Time) (account.Session, account.User, error)
	// Sessions lists a user's unexpired sessions, most recently used first.
	Sessions(ctx context.Context, userID string) ([]account.Session, error)
	// DeleteSession ends the session with id of the user; ErrNotFound when
	// the user has no such session.
	DeleteSession(ctx context.Context, userID, id string) error

	// CreateToken stores a new API token.
	CreateToken(ctx context.Context, t account.Token) error
	// TokenByHash returns the token with that hash and its user, and
	// records now as its last use (at most once a minute); ErrNotFound
	// when there is none.
	TokenByHash(ctx context.Context, hash string, now time.Time) (account.Token, account.User, error)
	// Tokens lists a user's tokens, newest first.
	Tokens(ctx context.Context, userID string) ([]account.Token, error)
	// DeleteToken revokes the token with id of the user; ErrNotFound when
	// the user has no such token.
	DeleteToken(ctx context.Context, userID, id string) error

	// CreateInvite stores an invitation.
	CreateInvite(ctx context.Context, inv account.Invite) error
	// UseInvite creates u (as CreateUser does) and spends the invitation
	// with that hash, in one transaction; ErrNotFound when there is no
	// such unspent, unexpired invitation at now.
	UseInvite(ctx context.Context, hash string, now time.Time, u account.User, passwordHash string) (account.User, error)

	// LinkIdentity links an account at an OpenID provider to a user; a
	// link that exists already is kept as it is.
	LinkIdentity(ctx context.Context, id account.Identity) error
	// UserByIdentity returns the user linked to the provider's account, or
	// ErrNotFound.
	UserByIdentity(ctx context.Context, issuer, subject string) (account.User, error)

	// SignInFailures returns how many sign-ins under key (an address or an
	// account) failed in a row, and when the last one did.
	SignInFailures(ctx context.Context, key string) (int, time.Time, error)
	// RecordSignInFailure counts one more failure under key at now.
	RecordSignInFailure(ctx context.Context, key string, now time.Time) error
	// ClearSignInFailures forgets the failures under key.
	ClearSignInFailures(ctx context.Context, key string) error
}

// ValidID reports whether id is a video id as the stores write them: a
// canonical lower-case UUID. Anything else names no video.
func ValidID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}

// VideoIDs keeps of ids those that can name a video, for a look-up of many
// at once: the others name nothing, and no database need be asked.
func VideoIDs(ids []string) []string {
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if ValidID(id) {
			valid = append(valid, id)
		}
	}
	return valid
}

// NewVideo checks a video and its upload session as CreateVideo is given
// them, and completes them for the insert: the session's video id defaults
// to the video's, no privacy is public, and no tags are an empty list, never
// NULL. An owner must be "" or a user's id.
func NewVideo(v video.Video, u video.UploadSession) (video.Video, video.UploadSession, error) {
	if !ValidID(v.ID) {
		return video.Video{}, video.UploadSession{}, video.Invalid("video id %q is not a canonical UUID", v.ID)
	}
	if v.OwnerID != "" && !ValidID(v.OwnerID) {
		return video.Video{}, video.UploadSession{}, video.Invalid("owner id %q is not a canonical UUID", v.OwnerID)
	}
	p, err := video.ParsePrivacy(string(v.Privacy))
	if err != nil {
		return video.Video{}, video.UploadSession{}, err
	}
	v.Privacy = p
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

// ImportedVideos checks videos as ImportVideos is given them and completes
// them for the insert, as NewVideo does, with the time of the import
// (truncated to what both stores keep) where a creation time is missing,
// and progress 1: they are ready.
func ImportedVideos(vs []video.Video, now time.Time) ([]video.Video, error) {
	out := make([]video.Video, len(vs))
	seen := make(map[string]bool, len(vs))
	now = now.Truncate(time.Microsecond)
	for i, v := range vs {
		v, _, err := NewVideo(v, video.UploadSession{})
		if err != nil {
			return nil, err
		}
		if seen[v.ID] {
			return nil, video.Invalid("video %s is imported twice", v.ID)
		}
		seen[v.ID] = true
		if v.CreatedAt.IsZero() {
			v.CreatedAt = now
		}
		v.CreatedAt = v.CreatedAt.Truncate(time.Microsecond)
		v.UpdatedAt = now
		v.State, v.Progress, v.FailureReason = video.StateReady, 1, ""
		out[i] = v
	}
	return out, nil
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
