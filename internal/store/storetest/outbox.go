package storetest

import (
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/cloudflix/cloudflix/internal/video"
)

func testOutbox(t *testing.T, s Store) {
	ctx := ctxFor(t)
	if got, err := s.PendingOutbox(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("PendingOutbox of an empty store = %v, %v", got, err)
	}
	var ids []string
	for i := range 5 {
		ids = append(ids, uploaded(t, s, draft{title: fmt.Sprintf("Outbox %d", i)}).ID)
	}
	// Creating a video writes no job; only the upload's completion does.
	create(t, s, draft{title: "Still uploading"})

	first, err := s.PendingOutbox(ctx, 3)
	if err != nil {
		t.Fatalf("PendingOutbox: %v", err)
	}
	if len(first) != 3 {
		t.Fatalf("PendingOutbox(3) returned %d entries", len(first))
	}
	for i, e := range first {
		if e.VideoID != ids[i] {
			t.Fatalf("entry %d is for %s, want %s (oldest first)", i, e.VideoID, ids[i])
		}
		if e.ID == 0 || e.CreatedAt.IsZero() {
			t.Fatalf("entry %d = %+v, want an id and a creation time", i, e)
		}
	}
	if err := s.MarkOutboxSent(ctx, []int64{first[0].ID, first[1].ID, first[2].ID}); err != nil {
		t.Fatalf("MarkOutboxSent: %v", err)
	}
	rest, err := s.PendingOutbox(ctx, 10)
	if err != nil {
		t.Fatalf("PendingOutbox: %v", err)
	}
	if len(rest) != 2 || rest[0].VideoID != ids[3] || rest[1].VideoID != ids[4] {
		t.Fatalf("PendingOutbox after sending three = %+v, want the last two", rest)
	}
	// Marking twice, or nothing, is harmless.
	if err := s.MarkOutboxSent(ctx, []int64{first[0].ID, rest[0].ID, rest[1].ID}); err != nil {
		t.Fatalf("MarkOutboxSent: %v", err)
	}
	if err := s.MarkOutboxSent(ctx, nil); err != nil {
		t.Fatalf("MarkOutboxSent(nil): %v", err)
	}
	if got, err := s.PendingOutbox(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("PendingOutbox after sending all = %v, %v; want none", got, err)
	}
}

// The job written by a request carries that request's trace, so the encode
// joins it.
func testOutboxCarriesTrace(t *testing.T, s Store) {
	v := create(t, s, draft{title: "Traced"})
	traceID := trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: trace.FlagsSampled})
	ctx := trace.ContextWithSpanContext(ctxFor(t), sc)
	if _, err := s.MarkUploaded(ctx, v.ID); err != nil {
		t.Fatalf("MarkUploaded: %v", err)
	}
	got, err := s.PendingOutbox(ctx, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("PendingOutbox = %v, %v", got, err)
	}
	if want := "00-" + traceID.String() + "-0102030405060708-01"; got[0].TraceParent != want {
		t.Fatalf("trace parent = %q, want %q", got[0].TraceParent, want)
	}
}

func testEncodeBacklog(t *testing.T, s Store) {
	ctx := ctxFor(t)
	if n, oldest, err := s.EncodeBacklog(ctx); err != nil || n != 0 || !oldest.IsZero() {
		t.Fatalf("backlog of an empty store = %d, %v, %v", n, oldest, err)
	}
	before := time.Now().Add(-time.Second)
	first := uploaded(t, s, draft{title: "First in line"})
	uploaded(t, s, draft{title: "Second in line"})
	create(t, s, draft{title: "Still uploading"})
	n, oldest, err := s.EncodeBacklog(ctx)
	if err != nil || n != 2 || oldest.Before(before) || oldest.After(time.Now().Add(time.Second)) {
		t.Fatalf("backlog = %d, %v, %v; want 2 waiting since just now", n, oldest, err)
	}
	if _, err := s.ClaimEncode(ctx, first.ID, "w1", longLease); err != nil {
		t.Fatal(err)
	}
	if n, _, err := s.EncodeBacklog(ctx); err != nil || n != 1 {
		t.Fatalf("backlog after a claim = %d, %v; want 1", n, err)
	}
}

func testRequeueStuck(t *testing.T, s Store) {
	ctx := ctxFor(t)
	requeue := func(uploadedFor time.Duration, want int) {
		t.Helper()
		n, err := s.RequeueStuck(ctx, uploadedFor)
		if err != nil {
			t.Fatalf("RequeueStuck: %v", err)
		}
		if n != want {
			t.Fatalf("RequeueStuck(%v) = %d, want %d", uploadedFor, n, want)
		}
	}
	lost := uploaded(t, s, draft{title: "Lost job"})
	expired := uploaded(t, s, draft{title: "Dead worker"})
	live := uploaded(t, s, draft{title: "Busy worker"})
	create(t, s, draft{title: "Uploading"})
	finished := ready(t, s, draft{title: "Done"})

	// Every uploaded video still has its unsent job: nothing to do.
	requeue(0, 0)
	drainOutbox(t, s)
	if _, err := s.ClaimEncode(ctx, expired.ID, "w1", time.Millisecond); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	if _, err := s.ClaimEncode(ctx, live.ID, "w2", longLease); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	// The last jobs were written just now: within an hour, they may just be slow.
	requeue(time.Hour, 0)

	// Past the deadline (0 here), the lost job and the dead worker's encode
	// are requeued; the live lease, the upload and the ready video are not.
	// The expired lease needs the clock to pass it first.
	deadline := time.Now().Add(10 * time.Second)
	for total := 0; total != 2; {
		n, err := s.RequeueStuck(ctx, 0)
		if err != nil {
			t.Fatalf("RequeueStuck: %v", err)
		}
		total += n
		if total > 2 || (total < 2 && time.Now().After(deadline)) {
			t.Fatalf("RequeueStuck(0) requeued %d videos in all, want 2", total)
		}
		if total < 2 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	for _, v := range []video.Video{lost, expired} {
		if n := len(outboxFor(t, s, v.ID)); n != 1 {
			t.Fatalf("outbox holds %d entries for %q, want 1", n, v.Title)
		}
	}
	if n := len(outboxFor(t, s, live.ID)) + len(outboxFor(t, s, finished.ID)); n != 0 {
		t.Fatalf("outbox holds %d entries for the live encode or the ready video, want 0", n)
	}
	// Requeued jobs not yet sent are not requeued again.
	requeue(0, 0)
	// Sent just now, they may just be slow: not requeued within the hour,
	// but requeued again once past the deadline.
	drainOutbox(t, s)
	requeue(time.Hour, 0)
	requeue(0, 2)
	// The requeued job brings the encode back to a worker as a takeover.
	c, err := s.ClaimEncode(ctx, expired.ID, "w3", longLease)
	if err != nil {
		t.Fatalf("ClaimEncode of the requeued encode: %v", err)
	}
	if c.Attempt != 2 {
		t.Fatalf("Attempt = %d, want 2", c.Attempt)
	}
}
