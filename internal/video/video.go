// Package video holds CloudFlix's domain model of a video: its states and the
// moves between them, its renditions, its upload session and the errors every
// service and store speaks in. It must never import a transport or a backend.
package video

import (
	"errors"
	"fmt"
	"time"
)

// State is where a video is in its life.
type State string

const (
	StateUploading  State = "uploading"
	StateUploaded   State = "uploaded"
	StateProcessing State = "processing"
	StateReady      State = "ready"
	StateFailed     State = "failed"
	StateDeleted    State = "deleted"
)

// Terminal reports whether a video in s will not change without a new request.
func (s State) Terminal() bool {
	return s == StateReady || s == StateFailed || s == StateDeleted
}

// Privacy is who may find and watch a video.
type Privacy string

const (
	// PrivacyPublic videos are listed, searched and played by anyone.
	PrivacyPublic Privacy = "public"
	// PrivacyUnlisted videos are played by anyone with the link, never
	// listed or searched.
	PrivacyUnlisted Privacy = "unlisted"
	// PrivacyPrivate videos are seen only by their owner, moderators and
	// admins.
	PrivacyPrivate Privacy = "private"
)

// ParsePrivacy reads a privacy's name; "" is public, the default.
func ParsePrivacy(s string) (Privacy, error) {
	switch p := Privacy(s); p {
	case "":
		return PrivacyPublic, nil
	case PrivacyPublic, PrivacyUnlisted, PrivacyPrivate:
		return p, nil
	}
	return "", Invalid("privacy %q: choose public, unlisted or private", s)
}

// Video is the metadata of one video.
type Video struct {
	ID              string
	OwnerID         string // the user who uploaded it; "" for a video from before accounts, until an admin exists
	OwnerName       string // the owner's username, read with the video
	Privacy         Privacy
	Title           string
	Description     string
	Tags            []string
	State           State
	FailureReason   string
	Progress        float64 // 0..1 while processing, 1 when ready
	PlayableSeconds float64 // while processing: how much, from the start, can be watched already (Playable)
	DurationSeconds float64
	Width           int
	Height          int
	Renditions      []Rendition
	Views           int64
	Likes           int64     // signed-in users who like it
	Comments        int64     // comments on it, replies included
	CommentsOff     bool      // its owner refuses new comments
	HiddenAt        time.Time // when a moderator hid it; zero while it shows
	HiddenReason    string    // the moderator's reason, shown to its owner
	SizeBytes       int64     // declared size of the source
	ContentType     string    // declared media type of the source
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Hidden reports whether a moderator took v out of sight.
func (v Video) Hidden() bool { return !v.HiddenAt.IsZero() }

// Change is an edit of a video's details; nil fields stay as they are.
type Change struct {
	Title       *string
	Description *string
	Tags        *[]string
	Privacy     *Privacy
	CommentsOff *bool
}

// Rendition is one rung of the HLS ladder as the master playlist describes it.
type Rendition struct {
	Name             string // also the folder under videos/{id}/hls/
	Width            int
	Height           int
	Bandwidth        int64 // peak bits per second
	AverageBandwidth int64 // average bits per second
	Codecs           string
	FrameRate        float64
}

// UploadSession is an open multipart upload of a video's source.
type UploadSession struct {
	VideoID   string
	OwnerID   string // the video's owner, read with the session
	UploadID  string // the object store's multipart upload id
	ObjectKey string
	SizeBytes int64
	PartSize  int64
	ExpiresAt time.Time
}

// PartCount is how many parts the session's object is cut into.
func (s UploadSession) PartCount() int {
	if s.PartSize <= 0 {
		return 0
	}
	return int((s.SizeBytes + s.PartSize - 1) / s.PartSize)
}

// PartLength is the exact length of part n (from 1): the part size, but
// for the last part, which holds the rest.
func (s UploadSession) PartLength(n int) int64 {
	if n == s.PartCount() {
		return s.SizeBytes - s.PartSize*int64(n-1)
	}
	return s.PartSize
}

// Encoded is what a finished encode knows about the video.
type Encoded struct {
	DurationSeconds float64
	Width           int
	Height          int
	Renditions      []Rendition
}

// Errors that every store and service speaks in; transports map them to codes.
var (
	// ErrNotFound: no video (or session) with that id.
	ErrNotFound = errors.New("not found")
	// ErrWrongState: the video is not in the state the operation needs.
	ErrWrongState = errors.New("video is not in the required state")
	// ErrLeaseLost: another worker holds (or took over) the encode lease.
	ErrLeaseLost = errors.New("encode lease lost")
)

// InvalidError is bad input from a caller, with a message a person can read.
type InvalidError struct{ Msg string }

func (e *InvalidError) Error() string { return e.Msg }

// Invalid returns an *InvalidError with a formatted message.
func Invalid(format string, args ...any) error {
	return &InvalidError{Msg: fmt.Sprintf(format, args...)}
}

// IsInvalid reports whether err is (or wraps) an *InvalidError.
func IsInvalid(err error) bool {
	var ie *InvalidError
	return errors.As(err, &ie)
}

// Object keys in the object store.
func SourceKey(id string) string         { return "sources/" + id }
func HLSPrefix(id string) string         { return "videos/" + id + "/hls/" }
func MasterPlaylistKey(id string) string { return HLSPrefix(id) + "master.m3u8" }
func ThumbnailKey(id string) string      { return "videos/" + id + "/thumb.jpg" }
func StoryboardKey(id string) string     { return "videos/" + id + "/storyboard.jpg" }
func StoryboardVTTKey(id string) string  { return "videos/" + id + "/storyboard.vtt" }
func VideoPrefix(id string) string       { return "videos/" + id + "/" }

// PageRule bounds one page of a list: Default items when the caller asks
// for no size, at most Max. Each list states its rule once, in the service
// that serves it; the edge passes what the client asked for unchanged.
type PageRule struct {
	Default int
	Max     int
}

// Size is the page size for a request: the default when requested is nil
// (the caller did not ask), else requested if it is within 1..Max.
func (r PageRule) Size(requested *int32) (int, error) {
	if requested == nil {
		return r.Default, nil
	}
	if n := *requested; n < 1 || int(n) > r.Max {
		return 0, Invalid("limit must be between 1 and %d", r.Max)
	}
	return int(*requested), nil
}

// ListPosition is a keyset position in a newest-first list of videos; the
// zero value is the start of the list.
type ListPosition struct {
	CreatedAt time.Time
	ID        string
}

// SearchHit is one video found by a search, with its relevance.
type SearchHit struct {
	Video Video
	Score float64
}

// OutboxEntry is an encode job written in the same transaction as the state
// change that asks for it, waiting to be published to the job queue.
type OutboxEntry struct {
	ID        int64
	VideoID   string
	CreatedAt time.Time
	// TraceParent is the W3C trace context of the request that wrote the
	// entry ("" when there was none).
	TraceParent string
}

// Claim is an encode worker's hold on a video.
type Claim struct {
	Video   Video
	Attempt int // how many times an encode of this video has been claimed
}

// HumanBytes writes a size the way people read it: "1.5 GiB".
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
