package encodesvc

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cloudflix/cloudflix/internal/queue"
	"github.com/cloudflix/cloudflix/internal/queue/memqueue"
	"github.com/cloudflix/cloudflix/internal/store/sqlitestore"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
)

func TestPipelineMetrics(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store, err := sqlitestore.Open(ctx, sqlitestore.Options{Path: filepath.Join(t.TempDir(), "m.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	q := memqueue.New(memqueue.Options{})
	t.Cleanup(func() { q.Close() })

	storetest.Uploaded(t, store, "Waiting")
	storetest.Uploaded(t, store, "Waiting too")
	if err := q.Publish(context.Background(), queue.Message{ID: "m1", Body: []byte(`{"video_id":"x"}`)}); err != nil {
		t.Fatal(err)
	}

	c := NewPipelineCollector(q, store)
	want := `
# HELP cloudflix_encode_backlog_videos Videos uploaded and waiting for an encoder.
# TYPE cloudflix_encode_backlog_videos gauge
cloudflix_encode_backlog_videos 2
# HELP cloudflix_queue_messages Messages in the encode queue, by state: pending (waiting for a worker) or dead_lettered.
# TYPE cloudflix_queue_messages gauge
cloudflix_queue_messages{state="dead_lettered"} 0
cloudflix_queue_messages{state="pending"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "cloudflix_encode_backlog_videos", "cloudflix_queue_messages"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c, "cloudflix_encode_backlog_age_seconds"); n != 1 {
		t.Fatalf("backlog age series = %d", n)
	}
}
