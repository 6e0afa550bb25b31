package store

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/webhook"
)

// Webhooks is the part of the store that keeps webhook endpoints and the
// outbox of their deliveries. Events are written by the transactions of
// the changes they announce (MarkReady, MarkFailed and DeleteVideo write
// video.ready, video.failed and video.deleted): one delivery per endpoint
// that asked for the event, of the video's owner or of an admin for every
// video, none when no endpoint asked. Ids of endpoints are canonical UUIDs;
// one that is not names nothing (ErrNotFound). Times are the database's.
type Webhooks interface {
	// CreateWebhookEndpoint stores e (its id, owner, URL, events, scope
	// and sealed secret) and returns it as stored, unless its owner has
	// maxPerOwner endpoints already (webhook.ErrTooManyEndpoints). An
	// owner who is no user gives ErrNotFound.
	CreateWebhookEndpoint(ctx context.Context, e webhook.Endpoint, maxPerOwner int) (webhook.Endpoint, error)
	// WebhookEndpoint returns the endpoint with id, or ErrNotFound.
	WebhookEndpoint(ctx context.Context, id string) (webhook.Endpoint, error)
	// WebhookEndpoints lists a user's endpoints, oldest first.
	WebhookEndpoints(ctx context.Context, ownerID string) ([]webhook.Endpoint, error)
	// UpdateWebhookEndpoint applies change and returns the endpoint as
	// now stored. Deliveries already written keep going to it.
	UpdateWebhookEndpoint(ctx context.Context, id string, change webhook.Change) (webhook.Endpoint, error)
	// DeleteWebhookEndpoint removes an endpoint with its deliveries, sent
	// or not.
	DeleteWebhookEndpoint(ctx context.Context, id string) error

	// EnqueueWebhookEvent writes a delivery of e to the endpoint with id
	// endpointID alone (the test event), due at once.
	EnqueueWebhookEvent(ctx context.Context, endpointID string, e webhook.Event) (webhook.Delivery, error)
	// WebhookDeliveries is an endpoint's delivery log: up to limit
	// deliveries, newest first, with ids below before (0 starts from the
	// newest).
	WebhookDeliveries(ctx context.Context, endpointID string, limit int, before int64) ([]webhook.Delivery, error)
	// ClaimWebhookDeliveries gives worker up to limit pending deliveries
	// that are due, oldest due first, each with its endpoint's URL and
	// sealed secret, and makes each due again only when lease has run out
	// (a sender that died holding it is replaced then).
	ClaimWebhookDeliveries(ctx context.Context, worker string, lease time.Duration, limit int) ([]webhook.Delivery, error)
	// RecordWebhookAttempt records worker's attempt of a claimed delivery:
	// one more attempt, its answer, and the delivery delivered, failed, or
	// pending again after a.RetryAfter. A delivery worker no longer holds
	// (its claim ran out and another took it, or it was finished) gives
	// ErrLeaseLost and changes nothing.
	RecordWebhookAttempt(ctx context.Context, id int64, worker string, a webhook.Attempt) error
	// ReleaseWebhookDelivery makes a delivery worker holds due at once
	// again, without counting an attempt; ErrLeaseLost when worker no
	// longer holds it.
	ReleaseWebhookDelivery(ctx context.Context, id int64, worker string) error
	// PurgeWebhookDeliveries deletes up to limit deliveries finished
	// (delivered or failed) longer than finishedFor ago, and returns how
	// many it deleted. Pending ones stay whatever their age.
	PurgeWebhookDeliveries(ctx context.Context, finishedFor time.Duration, limit int) (int, error)
}

// CheckEndpoint refuses an endpoint that no store could keep: its ids must
// be UUIDs, it needs a URL, events and a secret.
func CheckEndpoint(e webhook.Endpoint) error {
	if !ValidID(e.ID) {
		return video.Invalid("endpoint id %q is not a canonical UUID", e.ID)
	}
	if !ValidID(e.OwnerID) {
		return fmt.Errorf("endpoint owner %s: %w", e.OwnerID, video.ErrNotFound)
	}
	if e.URL == "" || len(e.Events) == 0 || len(e.Secret) == 0 {
		return video.Invalid("an endpoint needs a URL, events and a secret")
	}
	return nil
}

// EventNames are events as the stores keep them.
func EventNames(events []webhook.EventType) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = string(e)
	}
	return out
}

// EventTypes are stored event names back as types.
func EventTypes(names []string) []webhook.EventType {
	out := make([]webhook.EventType, len(names))
	for i, n := range names {
		out[i] = webhook.EventType(n)
	}
	return out
}

// CheckAttempt refuses an attempt whose outcome is no delivery state, and
// returns its delay before the next attempt in microseconds, as both
// stores add it to their clock.
func CheckAttempt(a webhook.Attempt) (int64, error) {
	switch a.State {
	case webhook.Pending, webhook.Delivered, webhook.Failed:
		return max(a.RetryAfter, 0).Microseconds(), nil
	}
	return 0, video.Invalid("webhook attempt state %q: want pending, delivered or failed", a.State)
}
