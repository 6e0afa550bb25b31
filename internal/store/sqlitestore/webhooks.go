package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/webhook"
)

// endpointColumns is what scanEndpoint reads, in order.
const endpointColumns = `id, owner_id, url, events, all_videos, secret, created_at, updated_at`

func scanEndpoint(row scanner) (webhook.Endpoint, error) {
	var (
		e                    webhook.Endpoint
		events               []byte
		createdAt, updatedAt int64
	)
	if err := row.Scan(&e.ID, &e.OwnerID, &e.URL, &events, &e.AllVideos, &e.Secret, &createdAt, &updatedAt); err != nil {
		return webhook.Endpoint{}, err
	}
	var names []string
	if err := json.Unmarshal(events, &names); err != nil {
		return webhook.Endpoint{}, fmt.Errorf("events of endpoint %s: %w", e.ID, err)
	}
	e.Events = store.EventTypes(names)
	e.CreatedAt, e.UpdatedAt = fromUnixMicros(createdAt), fromUnixMicros(updatedAt)
	return e, nil
}

// deliveryColumns is what scanDelivery reads, in order, of
// webhook_deliveries (unaliased).
const deliveryColumns = `id, endpoint_id, event_id, event_type, coalesce(video_id, ''), payload, state,
	attempts, coalesce(next_attempt_at, 0), last_status, last_latency_us, last_error, created_at, updated_at`

func scanDelivery(row scanner, extra ...any) (webhook.Delivery, error) {
	var (
		d                          webhook.Delivery
		next, latency              int64
		createdAt, updatedAt       int64
		payload                    []byte
		eventType, state, lastErrs string
	)
	dest := append([]any{&d.ID, &d.EndpointID, &d.EventID, &eventType, &d.VideoID, &payload, &state,
		&d.Attempts, &next, &d.LastStatus, &latency, &lastErrs, &createdAt, &updatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return webhook.Delivery{}, err
	}
	d.EventType, d.State, d.LastError, d.Payload = webhook.EventType(eventType), webhook.DeliveryState(state), lastErrs, payload
	d.LastLatency = time.Duration(latency) * time.Microsecond
	if next != 0 {
		d.NextAttemptAt = fromUnixMicros(next)
	}
	d.CreatedAt, d.UpdatedAt = fromUnixMicros(createdAt), fromUnixMicros(updatedAt)
	return d, nil
}

func collectDeliveries(rows *sql.Rows, extra func() []any, fill func(*webhook.Delivery)) ([]webhook.Delivery, error) {
	defer rows.Close()
	var ds []webhook.Delivery
	for rows.Next() {
		var more []any
		if extra != nil {
			more = extra()
		}
		d, err := scanDelivery(rows, more...)
		if err != nil {
			return nil, err
		}
		if fill != nil {
			fill(&d)
		}
		ds = append(ds, d)
	}
	return ds, rows.Err()
}

// insertVideoEvent writes, in tx, a delivery of the event of type t about
// v to every endpoint that asked for it: its owner's and every admin's for
// all videos, of users not disabled.
func insertVideoEvent(ctx context.Context, tx *sql.Tx, t webhook.EventType, v video.Video, now int64) error {
	e, err := webhook.VideoEvent(t, v, fromUnixMicros(now))
	if err != nil {
		return err
	}
	return insertEvent(ctx, tx, e, now)
}

// insertEvent writes e's deliveries, as insertVideoEvent does.
func insertEvent(ctx context.Context, tx *sql.Tx, e webhook.Event, now int64) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, video_id, payload, next_attempt_at, created_at, updated_at)
		SELECT e.id, ?1, ?2, ?3, ?4, ?5, ?5, ?5
		FROM webhook_endpoints e JOIN users u ON u.id = e.owner_id
		WHERE e.id IN (SELECT id FROM webhook_endpoints WHERE owner_id = ?6
				UNION ALL SELECT id FROM webhook_endpoints WHERE all_videos = 1)
			AND u.disabled = 0 AND (e.owner_id = ?6 OR u.role = 'admin')
			AND EXISTS (SELECT 1 FROM json_each(e.events) WHERE value = ?2)`,
		e.ID, string(e.Type), nullable(e.VideoID), e.Payload, now, e.OwnerID)
	if err != nil {
		return fmt.Errorf("write %s event: %w", e.Type, err)
	}
	return nil
}

// nullable is s, or NULL for "".
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateWebhookEndpoint implements [store.Webhooks.CreateWebhookEndpoint].
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e webhook.Endpoint, maxPerOwner int) (webhook.Endpoint, error) {
	if err := store.CheckEndpoint(e); err != nil {
		return webhook.Endpoint{}, err
	}
	events, err := json.Marshal(store.EventNames(e.Events))
	if err != nil {
		return webhook.Endpoint{}, err
	}
	var out webhook.Endpoint
	err = s.write(ctx, func(tx *sql.Tx, now int64) error {
		var n int
		err := tx.QueryRowContext(ctx, `
			SELECT (SELECT count(*) FROM webhook_endpoints WHERE owner_id = ?1) FROM users WHERE id = ?1`, e.OwnerID).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil {
			return err
		}
		if n >= maxPerOwner {
			return fmt.Errorf("%w: a user may have %d", webhook.ErrTooManyEndpoints, maxPerOwner)
		}
		out, err = scanEndpoint(tx.QueryRowContext(ctx, `
			INSERT INTO webhook_endpoints (id, owner_id, url, events, all_videos, secret, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?7, ?7) RETURNING `+endpointColumns,
			e.ID, e.OwnerID, e.URL, string(events), e.AllVideos, e.Secret, now))
		if isUniqueViolation(err) {
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
	e, err := scanEndpoint(s.r.QueryRowContext(ctx, "SELECT "+endpointColumns+" FROM webhook_endpoints WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		err = video.ErrNotFound
	}
	if err != nil {
		return webhook.Endpoint{}, fmt.Errorf("webhook endpoint %s: %w", id, err)
	}
	return e, nil
}

// WebhookEndpoints implements [store.Webhooks.WebhookEndpoints].
func (s *Store) WebhookEndpoints(ctx context.Context, ownerID string) ([]webhook.Endpoint, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT `+endpointColumns+` FROM webhook_endpoints WHERE owner_id = ? ORDER BY created_at, id`, ownerID)
	if err != nil {
		return nil, fmt.Errorf("webhook endpoints of %s: %w", ownerID, err)
	}
	defer rows.Close()
	var es []webhook.Endpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("webhook endpoints of %s: %w", ownerID, err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("webhook endpoints of %s: %w", ownerID, err)
	}
	return es, nil
}

// UpdateWebhookEndpoint implements [store.Webhooks.UpdateWebhookEndpoint].
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, id string, c webhook.Change) (webhook.Endpoint, error) {
	if !store.ValidID(id) {
		return webhook.Endpoint{}, fmt.Errorf("update webhook endpoint %s: %w", id, video.ErrNotFound)
	}
	var events, secret any
	if c.Events != nil {
		b, err := json.Marshal(store.EventNames(c.Events))
		if err != nil {
			return webhook.Endpoint{}, err
		}
		events = string(b)
	}
	if len(c.Secret) > 0 {
		secret = c.Secret
	}
	var out webhook.Endpoint
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		var err error
		out, err = scanEndpoint(tx.QueryRowContext(ctx, `
			UPDATE webhook_endpoints SET url = coalesce(?2, url), events = coalesce(?3, events),
				all_videos = coalesce(?4, all_videos), secret = coalesce(?5, secret), updated_at = ?6
			WHERE id = ?1 RETURNING `+endpointColumns, id, c.URL, events, c.AllVideos, secret, now))
		if errors.Is(err, sql.ErrNoRows) {
			return video.ErrNotFound
		}
		return err
	})
	if err != nil {
		return webhook.Endpoint{}, fmt.Errorf("update webhook endpoint %s: %w", id, err)
	}
	return out, nil
}

// DeleteWebhookEndpoint implements [store.Webhooks.DeleteWebhookEndpoint].
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id string) error {
	if !store.ValidID(id) {
		return fmt.Errorf("delete webhook endpoint %s: %w", id, video.ErrNotFound)
	}
	err := s.write(ctx, func(tx *sql.Tx, _ int64) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM webhook_endpoints WHERE id = ?", id)
		return changed(res, err, video.ErrNotFound)
	})
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
	var d webhook.Delivery
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		var err error
		d, err = scanDelivery(tx.QueryRowContext(ctx, `
			INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, video_id, payload, next_attempt_at, created_at, updated_at)
			SELECT id, ?2, ?3, ?4, ?5, ?6, ?6, ?6 FROM webhook_endpoints WHERE id = ?1
			RETURNING `+deliveryColumns, endpointID, e.ID, string(e.Type), nullable(e.VideoID), e.Payload, now))
		if errors.Is(err, sql.ErrNoRows) {
			return video.ErrNotFound
		}
		return err
	})
	if err != nil {
		return webhook.Delivery{}, fmt.Errorf("enqueue %s to %s: %w", e.Type, endpointID, err)
	}
	return d, nil
}

// WebhookDeliveries implements [store.Webhooks.WebhookDeliveries].
func (s *Store) WebhookDeliveries(ctx context.Context, endpointID string, limit int, before int64) ([]webhook.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `
		SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE endpoint_id = ?1 AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3`, endpointID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("webhook deliveries of %s: %w", endpointID, err)
	}
	ds, err := collectDeliveries(rows, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("webhook deliveries of %s: %w", endpointID, err)
	}
	return ds, nil
}

// ClaimWebhookDeliveries implements [store.Webhooks.ClaimWebhookDeliveries].
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, worker string, lease time.Duration, limit int) ([]webhook.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	var ds []webhook.Delivery
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		rows, err := tx.QueryContext(ctx, `
			UPDATE webhook_deliveries SET claimed_by = ?1, next_attempt_at = ?2 + ?3, updated_at = ?2
			WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= ?2
				ORDER BY next_attempt_at, id LIMIT ?4)
			RETURNING `+deliveryColumns+`,
				(SELECT e.url FROM webhook_endpoints e WHERE e.id = endpoint_id),
				(SELECT e.secret FROM webhook_endpoints e WHERE e.id = endpoint_id)`,
			worker, now, max(lease, 0).Microseconds(), limit)
		if err != nil {
			return err
		}
		var url string
		var secret []byte
		ds, err = collectDeliveries(rows, func() []any { return []any{&url, &secret} },
			func(d *webhook.Delivery) { d.URL, d.Secret = url, secret })
		return err
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
	err = s.write(ctx, func(tx *sql.Tx, now int64) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE webhook_deliveries SET attempts = attempts + 1, state = ?3,
				last_status = ?4, last_latency_us = ?5, last_error = ?6, claimed_by = NULL,
				next_attempt_at = CASE WHEN ?3 = 'pending' THEN ?7 + ?8 END,
				finished_at = CASE WHEN ?3 <> 'pending' THEN ?7 END, updated_at = ?7
			WHERE id = ?1 AND claimed_by = ?2 AND state = 'pending'`,
			id, worker, string(a.State), a.Status, a.Latency.Microseconds(), a.Error, now, delay)
		return changed(res, err, video.ErrLeaseLost)
	})
	if err != nil {
		return fmt.Errorf("record webhook attempt of %d: %w", id, err)
	}
	return nil
}

// ReleaseWebhookDelivery implements [store.Webhooks.ReleaseWebhookDelivery].
func (s *Store) ReleaseWebhookDelivery(ctx context.Context, id int64, worker string) error {
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE webhook_deliveries SET claimed_by = NULL, next_attempt_at = ?3, updated_at = ?3
			WHERE id = ?1 AND claimed_by = ?2 AND state = 'pending'`, id, worker, now)
		return changed(res, err, video.ErrLeaseLost)
	})
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
	var n int64
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		res, err := tx.ExecContext(ctx, `
			DELETE FROM webhook_deliveries WHERE id IN (
				SELECT id FROM webhook_deliveries WHERE finished_at IS NOT NULL AND finished_at < ?1
				ORDER BY finished_at LIMIT ?2)`, now-finishedFor.Microseconds(), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge webhook deliveries: %w", err)
	}
	return int(n), nil
}
