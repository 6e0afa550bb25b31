// Package webhook is how CloudFlix tells other systems what happened to a
// video: the endpoints people register, the events they receive, the
// signature on each delivery, the rule that keeps deliveries away from
// private networks, and the sender that delivers the outbox of events at
// least once, retrying with a growing delay.
//
// Events are written by the metadata store in the transaction of the change
// they announce, one delivery row per endpoint that asked for them; this
// package never writes an event on its own. It must never send a request to
// an address its Policy refuses, nor follow a redirect.
package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/video"
)

// EventType names what happened.
type EventType string

// The events an endpoint can ask for, and the test event one asks for by
// pressing "Send test event".
const (
	VideoReady     EventType = "video.ready"
	VideoFailed    EventType = "video.failed"
	VideoDeleted   EventType = "video.deleted"
	CommentCreated EventType = "comment.created"
	TestEvent      EventType = "webhook.test"
)

// EventTypes are the events an endpoint may subscribe to, in the order they
// are listed.
var EventTypes = []EventType{VideoReady, VideoFailed, VideoDeleted, CommentCreated}

// ParseEvents reads the events an endpoint asks for: at least one, each
// once, in EventTypes' order.
func ParseEvents(names []string) ([]EventType, error) {
	var out []EventType
	for _, n := range names {
		e := EventType(strings.TrimSpace(n))
		if !slices.Contains(EventTypes, e) {
			return nil, video.Invalid("event %q: choose video.ready, video.failed, video.deleted or comment.created", n)
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, video.Invalid("an endpoint needs at least one event")
	}
	slices.SortFunc(out, func(a, b EventType) int { return slices.Index(EventTypes, a) - slices.Index(EventTypes, b) })
	return out, nil
}

// Bounds of what endpoints and deliveries may take.
const (
	// MaxURLBytes bounds an endpoint's URL.
	MaxURLBytes = 2048
	// MaxPayloadBytes bounds an event's body. A video event carries the
	// video's id, title, state and owner, never its description, so it
	// stays far below.
	MaxPayloadBytes = 64 << 10
	// MaxResponseBytes is how much of a receiver's answer the sender reads;
	// the rest is dropped with the connection.
	MaxResponseBytes = 64 << 10
	// MaxErrorBytes bounds the error kept in the delivery log, the start
	// of a failed answer's body included.
	MaxErrorBytes = 512
	// DefaultMaxEndpoints is how many endpoints a user may have when the
	// operator says nothing.
	DefaultMaxEndpoints = 20
)

// ErrTooManyEndpoints refuses an endpoint past its owner's bound.
var ErrTooManyEndpoints = errors.New("too many webhook endpoints")

// Endpoint is a URL a user registered to receive events.
type Endpoint struct {
	ID      string
	OwnerID string
	URL     string
	Events  []EventType
	// AllVideos: the endpoint receives the events of every video, not only
	// its owner's. Only an admin's endpoint may; one whose owner is no
	// longer an admin receives only the owner's.
	AllVideos bool
	// Secret is the signing secret, sealed (Sealer); the store keeps it as
	// it is given.
	Secret    []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Subscribes reports whether e asked for events of type t.
func (e Endpoint) Subscribes(t EventType) bool { return slices.Contains(e.Events, t) }

// Change is what an update of an endpoint changes; nil leaves a field as
// it is.
type Change struct {
	URL       *string
	Events    []EventType
	AllVideos *bool
	Secret    []byte
}

// Event is something that happened, as every endpoint that asked for it
// receives it: the same id and body for each.
type Event struct {
	ID      string
	Type    EventType
	VideoID string // "" for the test event
	// OwnerID is the owner of the video the event is about: whose
	// endpoints receive it (with every admin's endpoint for all videos).
	OwnerID string
	Payload []byte
}

// DeliveryState is where a delivery is.
type DeliveryState string

const (
	// Pending: not delivered yet, to be tried (again) at NextAttemptAt.
	Pending DeliveryState = "pending"
	// Delivered: the endpoint answered 2xx.
	Delivered DeliveryState = "delivered"
	// Failed: every attempt failed; it is not tried again.
	Failed DeliveryState = "failed"
)

// Delivery is one event on its way to one endpoint, and its log.
type Delivery struct {
	ID         int64
	EndpointID string
	EventID    string
	EventType  EventType
	VideoID    string
	Payload    []byte
	State      DeliveryState
	// Attempts made so far; the last one's answer follows.
	Attempts    int
	LastStatus  int // the HTTP status, 0 when there was none
	LastLatency time.Duration
	LastError   string
	// NextAttemptAt is when a pending delivery is tried next (while a
	// sender holds it, when its claim ends); zero once it is finished.
	NextAttemptAt time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time

	// URL and Secret are the endpoint's, given with a claimed delivery.
	URL    string
	Secret []byte
}

// Attempt is the outcome of one try of a delivery, as the sender records it.
type Attempt struct {
	State   DeliveryState // Pending to try again after RetryAfter
	Status  int
	Latency time.Duration
	Error   string
	// RetryAfter is how long a pending delivery waits for its next try.
	RetryAfter time.Duration
}

// videoBody is what a video event says of the video.
type videoBody struct {
	ID              string        `json:"id"`
	OwnerID         string        `json:"owner_id,omitempty"`
	Owner           string        `json:"owner,omitempty"`
	Title           string        `json:"title"`
	Privacy         video.Privacy `json:"privacy"`
	State           video.State   `json:"state"`
	FailureReason   string        `json:"failure_reason,omitempty"`
	DurationSeconds float64       `json:"duration_seconds,omitempty"`
	Width           int           `json:"width,omitempty"`
	Height          int           `json:"height,omitempty"`
	CreatedAt       time.Time     `json:"created_at"`
}

// envelope is the body of every delivery.
type envelope struct {
	ID        string    `json:"id"`
	Type      EventType `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Data      any       `json:"data"`
}

// NewEvent is an event of type t about data (the value of the body's
// "data"), with a fresh id, at at.
func NewEvent(t EventType, videoID, ownerID string, at time.Time, data any) (Event, error) {
	id := uuid.NewString()
	body, err := json.Marshal(envelope{ID: id, Type: t, CreatedAt: at.UTC().Truncate(time.Millisecond), Data: data})
	if err != nil {
		return Event{}, fmt.Errorf("event %s: %w", t, err)
	}
	if len(body) > MaxPayloadBytes {
		return Event{}, fmt.Errorf("event %s: body of %d bytes is over %d", t, len(body), MaxPayloadBytes)
	}
	return Event{ID: id, Type: t, VideoID: videoID, OwnerID: ownerID, Payload: body}, nil
}

// VideoEvent is the event of type t about v as it now is (a deleted one in
// state deleted).
func VideoEvent(t EventType, v video.Video, at time.Time) (Event, error) {
	if t == VideoDeleted {
		v.State = video.StateDeleted
	}
	return NewEvent(t, v.ID, v.OwnerID, at, map[string]any{"video": videoBody{
		ID: v.ID, OwnerID: v.OwnerID, Owner: v.OwnerName, Title: v.Title, Privacy: v.Privacy, State: v.State,
		FailureReason: v.FailureReason, DurationSeconds: v.DurationSeconds, Width: v.Width, Height: v.Height,
		CreatedAt: v.CreatedAt.UTC(),
	}})
}

// commentBody is what a comment.created event says of the comment.
type commentBody struct {
	ID        string    `json:"id"`
	VideoID   string    `json:"video_id"`
	ParentID  string    `json:"parent_id,omitempty"`
	AuthorID  string    `json:"author_id"`
	Author    string    `json:"author"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// CommentEvent is the comment.created event of c, on a video of the user
// with id ownerID.
func CommentEvent(c video.Comment, ownerID string, at time.Time) (Event, error) {
	return NewEvent(CommentCreated, c.VideoID, ownerID, at, map[string]any{"comment": commentBody{
		ID: c.ID, VideoID: c.VideoID, ParentID: c.ParentID, AuthorID: c.AuthorID, Author: c.AuthorName, Body: c.Body,
		CreatedAt: c.CreatedAt.UTC(),
	}})
}

// NewTestEvent is the event "Send test event" delivers to one endpoint.
func NewTestEvent(endpointID string, at time.Time) (Event, error) {
	return NewEvent(TestEvent, "", "", at, map[string]any{"endpoint_id": endpointID,
		"message": "A test event from CloudFlix: the endpoint is reachable and the signature can be checked."})
}
