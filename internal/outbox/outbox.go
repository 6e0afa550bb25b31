// Package outbox relays encode jobs from the metadata store's outbox to the
// job queue: a state change and the job it asks for are written in one
// transaction, and the relay publishes every unsent job (with publisher
// confirms) and only then marks it sent. If the broker is down, jobs wait in
// the database and go out once it is back. A job may go out twice (two
// relays, or a crash between publish and mark); consumers claim work in the
// database, so a duplicate does nothing.
package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloudflix/cloudflix/internal/queue"
	"github.com/cloudflix/cloudflix/internal/video"
)

var tracer = otel.Tracer("github.com/cloudflix/cloudflix/internal/outbox")

// Store is the outbox side of the metadata store.
type Store interface {
	PendingOutbox(ctx context.Context, limit int) ([]video.OutboxEntry, error)
	MarkOutboxSent(ctx context.Context, ids []int64) error
}

// Publisher puts a message on the job queue and returns once the broker has
// confirmed it.
type Publisher interface {
	Publish(ctx context.Context, m queue.Message) error
}

// Job is the body of an encode job message: a video's encode, or one
// chunk of it (Plan and Chunk set; see video.Chunk).
type Job struct {
	VideoID string `json:"video_id"`
	Plan    string `json:"plan,omitempty"`
	Chunk   *int   `json:"chunk,omitempty"`
}

// ChunkMessage is the queue message of chunk index of a video's plan. It
// is put on the queue by the worker holding the encode, not through the
// outbox: the chunk rows are the truth, and that worker takes any chunk
// whose message was lost itself.
func ChunkMessage(id, plan string, index int) queue.Message {
	body, _ := json.Marshal(Job{VideoID: id, Plan: plan, Chunk: &index})
	return queue.Message{ID: "chunk-" + id + "-" + plan + "-" + strconv.Itoa(index), Body: body}
}

// Message turns an outbox entry into its queue message.
func Message(e video.OutboxEntry) queue.Message {
	body, _ := json.Marshal(Job{VideoID: e.VideoID})
	return queue.Message{ID: "outbox-" + strconv.FormatInt(e.ID, 10), Body: body}
}

// ParseJob reads an encode job message body.
func ParseJob(body []byte) (Job, error) {
	var j Job
	if err := json.Unmarshal(body, &j); err != nil {
		return Job{}, fmt.Errorf("encode job: %w", err)
	}
	if j.VideoID == "" {
		return Job{}, fmt.Errorf("encode job: no video_id")
	}
	if (j.Plan == "") != (j.Chunk == nil) || (j.Chunk != nil && *j.Chunk < 0) {
		return Job{}, fmt.Errorf("encode job: a chunk job needs a plan and a chunk index not below 0")
	}
	return j, nil
}

// Relay publishes the outbox.
type Relay struct {
	store     Store
	pub       Publisher
	interval  time.Duration
	wake      chan struct{}
	published prometheus.Counter
}

// NewRelay returns a relay that looks at the outbox every interval, and at
// once when woken. reg may be nil.
func NewRelay(store Store, pub Publisher, interval time.Duration, reg prometheus.Registerer) *Relay {
	r := &Relay{store: store, pub: pub, interval: interval, wake: make(chan struct{}, 1),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cloudflix_outbox_published_total",
			Help: "Encode jobs published from the outbox to the job queue.",
		})}
	if reg != nil {
		reg.MustRegister(r.published)
	}
	return r
}

// Wake makes the relay look at the outbox now, without waiting for its tick.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run relays until ctx ends.
func (r *Relay) Run(ctx context.Context) error {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		for {
			n, err := r.Flush(ctx)
			if err != nil {
				if ctx.Err() == nil {
					slog.WarnContext(ctx, "outbox relay: will retry", "err", err)
				}
				break
			}
			if n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-r.wake:
		}
	}
}

// publish sends one job inside a span that continues the trace of the
// request that wrote it, so the encode shows up under that request.
func (r *Relay) publish(ctx context.Context, e video.OutboxEntry) error {
	parent := propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": e.TraceParent})
	ctx, span := tracer.Start(parent, "outbox relay", trace.WithAttributes(
		attribute.String("cloudflix.video_id", e.VideoID), attribute.Int64("cloudflix.outbox_id", e.ID)))
	defer span.End()
	err := r.pub.Publish(ctx, Message(e))
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return err
}

// Flush publishes one batch of pending jobs and returns how many went out.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	entries, err := r.store.PendingOutbox(ctx, 100)
	if err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	sent := make([]int64, 0, len(entries))
	var pubErr error
	for _, e := range entries {
		if err := r.publish(ctx, e); err != nil {
			pubErr = fmt.Errorf("publish encode job for %s: %w", e.VideoID, err)
			break
		}
		sent = append(sent, e.ID)
	}
	if len(sent) > 0 {
		if err := r.store.MarkOutboxSent(ctx, sent); err != nil {
			return 0, fmt.Errorf("mark outbox sent: %w", err)
		}
		r.published.Add(float64(len(sent)))
	}
	return len(sent), pubErr
}
