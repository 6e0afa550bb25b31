// Package platformtest gives a test the backends of a process, chosen the
// way production chooses them (through platform), on either set: embedded
// (SQLite, a local folder, the in-process cache and queue) or production
// (PostgreSQL, S3, Redis and RabbitMQ, each a slice of its own on the real
// servers). A service test written against it runs the same on both. It is
// for tests only and never fakes a server.
package platformtest

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/blob/s3blob"
	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/queue/amqpqueue"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/testenv"
)

// Set names a set of backends.
type Set string

const (
	Embedded   Set = "embedded"
	Production Set = "production"
)

// Sets are both sets, in the order Each runs them.
var Sets = []Set{Embedded, Production}

// Backends is the configuration of set for t: a data folder of its own, or
// a database, bucket, key prefix and queue of its own on the real servers,
// removed when the test ends.
func Backends(t testing.TB, set Set) config.Backends {
	t.Helper()
	b := config.Backends{
		DataDir: t.TempDir(), Metadata: "sqlite", Storage: "local", Cache: "memory", Queue: "memory",
		AMQP: config.AMQP{MaxDeliveries: 5},
	}
	if set == Embedded {
		return b
	}
	s3 := testenv.S3Bucket(t)
	b.Metadata, b.Storage, b.Cache, b.Queue = "postgres", "s3", "redis", "rabbitmq"
	b.Postgres = config.Postgres{URL: config.Secret(testenv.Postgres(t)), MaxConns: 10}
	b.Redis = config.Redis{Addr: testenv.RedisAddr(), Prefix: testenv.RedisPrefix(t)}
	b.AMQP = config.AMQP{URL: config.Secret(testenv.AMQPURL()), Queue: testenv.QueueName(t), MaxDeliveries: 5}
	b.S3 = config.S3{Endpoint: s3.Endpoint, AccessKey: s3.AccessKey, SecretKey: config.Secret(s3.SecretKey), Bucket: s3.Bucket, Region: "us-east-1"}
	t.Cleanup(func() { removeSlices(t, b) })
	return b
}

// removeSlices empties the test's bucket and deletes its queues; the
// database and key prefix are testenv's to remove.
func removeSlices(t testing.TB, b config.Backends) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if q, err := amqpqueue.Open(ctx, amqpqueue.Options{URL: string(b.AMQP.URL), Queue: b.AMQP.Queue}); err == nil {
		if err := q.DeleteTopology(ctx); err != nil {
			t.Logf("platformtest: delete queues %s: %v", b.AMQP.Queue, err)
		}
		_ = q.Close()
	}
	s, err := s3blob.Open(ctx, s3blob.Options{Endpoint: b.S3.Endpoint, AccessKey: b.S3.AccessKey, SecretKey: string(b.S3.SecretKey), Bucket: b.S3.Bucket})
	if err != nil {
		return
	}
	for _, prefix := range []string{"sources/", "videos/"} {
		if err := s.DeletePrefix(ctx, prefix); err != nil {
			t.Logf("platformtest: empty bucket %s: %v", b.S3.Bucket, err)
		}
	}
}

// Key is the internal key of every test process: tests sign principals
// with it to call services as someone.
var Key = rpc.Key("platformtest internal key, 32 bytes or more")

// Process opens a process on set, its metadata migrated, closed when the
// test ends.
func Process(t testing.TB, set Set) *platform.Process {
	t.Helper()
	b := Backends(t, set)
	if err := platform.Migrate(t.Context(), b); err != nil {
		t.Fatalf("platformtest: %v", err)
	}
	p, err := platform.NewProcess(prometheus.NewRegistry(), 5*time.Second, b, Key)
	if err != nil {
		t.Fatalf("platformtest: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// Storage returns p's object storage, with local storage's part endpoint
// served over real HTTP as the router serves it, and the base URL that
// part URLs resolve against: local storage's are paths, S3's absolute.
func Storage(t testing.TB, p *platform.Process) (blob.Store, string) {
	t.Helper()
	objects, parts, err := p.Objects(t.Context())
	if err != nil {
		t.Fatalf("platformtest: %v", err)
	}
	mux := http.NewServeMux()
	if parts != nil {
		mux.Handle(platform.UploadPartsPath+"/", parts)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return objects, srv.URL
}

// PutPart PUTs body to a presigned part URL, resolved against base, as a
// client does, and returns the status storage answered.
func PutPart(ctx context.Context, base, partURL string, body []byte) (int, error) {
	u, err := url.Parse(base)
	if err != nil {
		return 0, err
	}
	target, err := u.Parse(partURL)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, target.String(), bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Each runs fn once per set, as parallel subtests named after the set.
func Each(t *testing.T, fn func(t *testing.T, p *platform.Process)) {
	t.Helper()
	for _, set := range Sets {
		t.Run(string(set), func(t *testing.T) {
			t.Parallel()
			fn(t, Process(t, set))
		})
	}
}

// Serve runs the gRPC services register adds on a real server of the
// install (RED metrics, principals checked with Key) on a loopback port,
// and returns a connection to it that signs each call's principal with Key,
// as the edge does. Both close when the test ends.
func Serve(t testing.TB, register func(s *grpc.Server)) *grpc.ClientConn {
	t.Helper()
	srv := rpc.NewServer(rpc.NewMetrics(prometheus.NewRegistry()), Key)
	register(srv.Server)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("platformtest: %v", err)
	}
	go func() { _ = srv.Server.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := rpc.Dial(lis.Addr().String(), Key)
	if err != nil {
		t.Fatalf("platformtest: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
