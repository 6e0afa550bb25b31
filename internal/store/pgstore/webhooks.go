package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/webhook"
)

// endpointColumns is what scanEndpoint reads, in order.
const endpointColumns = `id::text, owner_id::text, url, events, all_videos, secret, created_at, updated_at`

func scanEndpoint(row pgx.Row) (webhook.Endpoint, error) {
	var (
		e      webhook.Endpoint
		events []string
	)
	if err := row.Scan(&e.ID, &e.OwnerID, &e.URL, &events, &e.AllVideos, &e.Secret, &e.CreatedAt, &e.UpdatedAt); err != nil {
		return webhook.Endpoint{}, err
	}
	e.Events = store.EventTypes(events)
	return e, nil
}

// deliveryColumns is what scanDelivery reads, in order, of
// webhook_deliveries (unaliased).
const deliveryColumns = `id, endpoint_id::text, event_id::text, event_type, coalesce(video_id::text, ''), payload, state,
	attempts, next_attempt_at, last_status, last_latency_us, last_error, created_at, updated_at`

func scanDelivery(row pgx.Row, extra ...any) (webhook.Delivery, error) {
	var (
		d                webhook.Delivery
		next             *time.Time
		latency          int64
		eventType, state string
	)
	dest := append([]any{&d.ID, &d.EndpointID, &d.EventID, &eventType, &d.VideoID, &d.Payload, &state,
		&d.Attempts, &next, &d.LastStatus, &latency, &d.LastError, &d.CreatedAt, &d.UpdatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return webhook.Delivery{}, err
	}
	d.EventType, d.State = webhook.EventType(eventType), webhook.DeliveryState(state)
	d.LastLatency = time.Duration(latency) * time.Microsecond
	if next != nil {
		d.NextAttemptAt = *next
	}
	return d, nil
}

// insertVideoEvent writes, in tx, a delivery of the event of type t about
// v to every endpoint that asked for it: its owner's and every admin's for
// all videos, of users not disabled.
func insertVideoEvent(ctx context.Context, tx pgx.Tx, t webhook.EventType, v video.Video) error {
	e, err := webhook.VideoEvent(t, v, time.Now())
	if err != nil {
		return err
	}
	return insertEvent(ctx, tx, e)
}

// insertEvent writes e's deliveries, as insertVideoEvent does.
func insertEvent(ctx context.Context, tx pgx.Tx, e webhook.Event) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, video_id, payload, next_attempt_at)
		SELECT e.id, $1, $2, nullif($3, '')::uuid, $4, now()
		FROM webhook_endpoints e JOIN users u ON u.id = e.owner_id
		WHERE (e.owner_id = nullif($5, '')::uuid OR (e.all_videos AND u.role = 'admin'))
			AND NOT u.disabled AND $2 = ANY (e.events)`,
		e.ID, string(e.Type), e.VideoID, e.Payload, e.OwnerID)
	if err != nil {
		return fmt.Errorf("write %s event: %w", e.Type, err)
	}
	return nil
}

// CreateWebhookEndpoint implements [store.Webhooks.CreateWebhookEndpoint].
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e webhook.Endpoint, maxPerOwner int) (webhook.Endpoint, error) {
	if err := store.CheckEndpoint(e); err != nil {
		return webhook.Endpoint{}, err
	}
	var out webhook.Endpoint
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The owner's row, locked, serialises their creations, so that two
		// at once cannot both pass the bound. The count is a statement of
		// its own, so that it sees what a creation it waited for wrote.
		tag, err := tx.Exec(ctx, "SELECT 1 FROM users WHERE id = $1 FOR UPDATE", e.OwnerID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return video.ErrNotFound
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM webhook_endpoints WHERE owner_id = $1", e.OwnerID).Scan(&n); err != nil {
			return err
		}
		if n >= maxPerOwner {
			return fmt.Errorf("%w: a user may have %d", webhook.ErrTooManyEndpoints, maxPerOwner)
		}
		out, err = scanEndpoint(tx.QueryRow(ctx, `
			INSERT INTO webhook_endpoints (id, owner_id, url, events, all_videos, secret)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+endpointColumns,
			e.ID, e.OwnerID, e.URL, store.EventNames(e.Events), e.AllVideos, e.Secret))
		if code, _ := pgError(err); code == uniqueViolation {
			return video.Invalid("endpoint %s exists already", e.ID)
		}
		return err
	})
	if err != nil {
		return webhook.Endpoint{}, fmt.Errorf("create webhook endpoint: %w", err)
	}
	return out, nil
}

// WebhookEndpoint implements [store.Webhooks.WebhookEndpoint].
func (s *Store) WebhookEndpoint(ctx context.Context, id string) (webhook.Endpoint, error) {
	if !store.ValidID(id) {
		return webhook.Endpoint{}, fmt.Errorf("webhook endpoint %s: %w", id, video.ErrNotFound)
	}
	e, err := scanEndpoint(s.pool.QueryRow(ctx, "SELECT "+endpointColumns+" FROM webhook_endpoints WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		err = video.ErrNotFound
	}
	if err != nil {
		return webhook.Endpoint{}, fmt.Errorf("webhook endpoint %s: %w", id, err)
	}
	return e, nil
}

// WebhookEndpoints implements [store.Webhooks.WebhookEndpoints].
func (s *Store) WebhookEndpoints(ctx context.Context, ownerID string) ([]webhook.Endpoint, error) {
	if !store.ValidID(ownerID) {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+endpointColumns+` FROM webhook_endpoints WHERE owner_id = $1 ORDER BY created_at, id`, ownerID)
	if err != nil {
		return nil, fmt.Errorf("webhook endpoints of %s: %w", ownerID, err)
	}
	es, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (webhook.Endpoint, error) { return scanEndpoint(r) })
	if err != nil {
		return nil, fmt.Errorf("webhook endpoints of %s: %w", ownerID, err)
	}
	return es, nil
}

// UpdateWebhookEndpoint implements [store.Webhooks.UpdateWebhookEndpoint].
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, id string, c webhook.Change) (webhook.Endpoint, error) {
	if !store.ValidID(id) {
		return webhook.Endpoint{}, fmt.Errorf("update webhook endpoint %s: %w", id, video.ErrNotFound)
	}
	var events []string
	if c.Events != nil {
		events = store.EventNames(c.Events)
	}
	var secret []byte
	if len(c.Secret) > 0 {
		secret = c.Secret
	}
	e, err := scanEndpoint(s.pool.QueryRow(ctx, `
		UPDATE webhook_endpoints SET url = coalesce($2, url), events = coalesce($3, events),
			all_videos = coalesce($4, all_videos), secret = coalesce($5, secret), updated_at = now()
		WHERE id = $1 RETURNING `+endpointColumns, id, c.URL, events, c.AllVideos, secret))
	if errors.Is(err, pgx.ErrNoRows) {
		err = video.ErrNotFound
	}
	if err != nil {
		return webhook.Endpoint{}, fmt.Errorf("update webhook endpoint %s: %w", id, err)
	}
	return e, nil
}

// DeleteWebhookEndpoint implements [store.Webhooks.DeleteWebhookEndpoint].
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id string) error {
	if !store.ValidID(id) {
		return fmt.Errorf("delete webhook endpoint %s: %w", id, video.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, "DELETE FROM webhook_endpoints WHERE id = $1", id)
	if err == nil && tag.RowsAffected() == 0 {
		err = video.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete webhook endpoint %s: %w", id, err)
	}
	return nil
}

// EnqueueWebhookEvent implements [store.Webhooks.EnqueueWebhookEvent].
func (s *Store) EnqueueWebhookEvent(ctx context.Context, endpointID string, e webhook.Event) (webhook.Delivery, error) {
	if !store.ValidID(endpointID) {
		return webhook.Delivery{}, fmt.Errorf("enqueue %s to %s: %w", e.Type, endpointID, video.ErrNotFound)
	}
	d, err := scanDelivery(s.pool.QueryRow(ctx, `
		INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, video_id, payload, next_attempt_at)
		SELECT id, $2, $3, nullif($4, '')::uuid, $5, now() FROM webhook_endpoints WHERE id = $1
		RETURNING `+deliveryColumns, endpointID, e.ID, string(e.Type), e.VideoID, e.Payload))
	if errors.Is(err, pgx.ErrNoRows) {
		err = video.ErrNotFound
	}
	if err != nil {
		return webhook.Delivery{}, fmt.Errorf("enqueue %s to %s: %w", e.Type, endpointID, err)
	}
	return d, nil
}

// WebhookDeliveries implements [store.Webhooks.WebhookDeliveries].
func (s *Store) WebhookDeliveries(ctx context.Context, endpointID string, limit int, before int64) ([]webhook.Delivery, error) {
	if limit <= 0 || !store.ValidID(endpointID) {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE endpoint_id = $1 AND ($2 = 0 OR id < $2) ORDER BY id DESC LIMIT $3`, endpointID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("webhook deliveries of %s: %w", endpointID, err)
	}
	ds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (webhook.Delivery, error) { return scanDelivery(r) })
	if err != nil {
		return nil, fmt.Errorf("webhook deliveries of %s: %w", endpointID, err)
	}
	return ds, nil
}

// ClaimWebhookDeliveries implements [store.Webhooks.ClaimWebhookDeliveries].
// SKIP LOCKED lets senders claim at once without waiting for each other.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, worker string, lease time.Duration, limit int) ([]webhook.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
		UPDATE webhook_deliveries SET claimed_by = $1,
			next_attempt_at = now() + $2 * interval '1 microsecond', updated_at = now()
		WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= now()
			ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+deliveryColumns+`,
			(SELECT e.url FROM webhook_endpoints e WHERE e.id = webhook_deliveries.endpoint_id),
			(SELECT e.secret FROM webhook_endpoints e WHERE e.id = webhook_deliveries.endpoint_id)`,
		worker, max(lease, 0).Microseconds(), limit)
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	ds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (webhook.Delivery, error) {
		var (
			url    string
			secret []byte
		)
		d, err := scanDelivery(r, &url, &secret)
		d.URL, d.Secret = url, secret
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	return ds, nil
}

// RecordWebhookAttempt implements [store.Webhooks.RecordWebhookAttempt].
func (s *Store) RecordWebhookAttempt(ctx context.Context, id int64, worker string, a webhook.Attempt) error {
	delay, err := store.CheckAttempt(a)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `
		UPDATE webhook_deliveries SET attempts = attempts + 1, state = $3,
			last_status = $4, last_latency_us = $5, last_error = $6, claimed_by = NULL,
			next_attempt_at = CASE WHEN $3 = 'pending' THEN now() + $7 * interval '1 microsecond' END,
			finished_at = CASE WHEN $3 <> 'pending' THEN now() END, updated_at = now()
		WHERE id = $1 AND claimed_by = $2 AND state = 'pending'`,
		id, worker, string(a.State), a.Status, a.Latency.Microseconds(), a.Error, delay)
	if err == nil && tag.RowsAffected() == 0 {
		err = video.ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("record webhook attempt of %d: %w", id, err)
	}
	return nil
}

// ReleaseWebhookDelivery implements [store.Webhooks.ReleaseWebhookDelivery].
func (s *Store) ReleaseWebhookDelivery(ctx context.Context, id int64, worker string) error {
	tag, err := s.pool.Exec(ctx, `
		UPDATE webhook_deliveries SET claimed_by = NULL, next_attempt_at = now(), updated_at = now()
		WHERE id = $1 AND claimed_by = $2 AND state = 'pending'`, id, worker)
	if err == nil && tag.RowsAffected() == 0 {
		err = video.ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("release webhook delivery %d: %w", id, err)
	}
	return nil
}

// PurgeWebhookDeliveries implements [store.Webhooks.PurgeWebhookDeliveries].
func (s *Store) PurgeWebhookDeliveries(ctx context.Context, finishedFor time.Duration, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	tag, err := s.pool.Exec(ctx, `
		DELETE FROM webhook_deliveries WHERE id IN (
			SELECT id FROM webhook_deliveries
			WHERE finished_at IS NOT NULL AND finished_at < now() - $1 * interval '1 microsecond'
			ORDER BY finished_at LIMIT $2)`, finishedFor.Microseconds(), limit)
	if err != nil {
		return 0, fmt.Errorf("purge webhook deliveries: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
