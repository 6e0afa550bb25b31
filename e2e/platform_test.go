package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/cloudflix/cloudflix/internal/blob/s3blob"
	"github.com/cloudflix/cloudflix/internal/queue/amqpqueue"
	"github.com/cloudflix/cloudflix/internal/testenv"
)

// binary is the cloudflix binary built once for the whole test run.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cloudflix-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "cloudflix")
	build := exec.Command("go", "build", "-o", binary, "./cmd/cloudflix")
	build.Dir = testenv.RepoRoot()
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build cloudflix:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// process is one running cloudflix process.
type process struct {
	name    string
	cmd     *exec.Cmd
	log     *lockedBuffer
	exited  chan struct{} // closed when the process has exited
	exitErr error         // how it exited, once exited is closed
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start runs cloudflix with args and env; at cleanup it sends SIGTERM and
// fails the test unless the process shuts down cleanly in time.
func start(t *testing.T, name string, env []string, args ...string) *process {
	t.Helper()
	p := &process{name: name, log: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.exitErr = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
			if p.exitErr != nil {
				t.Errorf("%s did not shut down cleanly: %v", name, p.exitErr)
			}
		case <-time.After(30 * time.Second):
			_ = p.cmd.Process.Kill()
			t.Errorf("%s did not stop within 30s of SIGTERM", name)
		}
		if t.Failed() {
			t.Logf("--- %s log ---\n%s", name, tail(p.log.String(), 60))
		}
	})
	return p
}

func tail(s string, lines int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

// waitReady polls url until it answers 200, or fails the test naming the
// process that is not ready.
func waitReady(t *testing.T, p *process, url string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			t.Fatalf("%s exited before it was ready: %v\n%s", p.name, p.exitErr, tail(p.log.String(), 40))
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready at %s within %v: %s\n%s", p.name, url, within, last, tail(p.log.String(), 40))
}

// checkGRPCHealth asks a gRPC server's health service whether it serves.
func checkGRPCHealth(t *testing.T, addr string) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("gRPC health of %s = %v, %v", addr, resp.GetStatus(), err)
	}
}

// backends are the real servers a test platform runs on, each in a slice of
// its own.
type backends struct {
	env []string
	s3  testenv.S3
}

func newBackends(t *testing.T) backends {
	t.Helper()
	s3 := testenv.S3Bucket(t)
	prefix := testenv.RedisPrefix(t)
	queueName := testenv.QueueName(t)
	b := backends{s3: s3, env: []string{
		"CLOUDFLIX_METADATA=postgres",
		"CLOUDFLIX_STORAGE=s3",
		"CLOUDFLIX_CACHE=redis",
		"CLOUDFLIX_QUEUE=rabbitmq",
		"CLOUDFLIX_POSTGRES_URL=" + testenv.Postgres(t),
		"CLOUDFLIX_REDIS_ADDR=" + testenv.RedisAddr(),
		"CLOUDFLIX_REDIS_PREFIX=" + prefix,
		"CLOUDFLIX_AMQP_URL=" + testenv.AMQPURL(),
		"CLOUDFLIX_AMQP_QUEUE=" + queueName,
		"CLOUDFLIX_S3_ENDPOINT=" + s3.Endpoint,
		"CLOUDFLIX_S3_ACCESS_KEY=" + s3.AccessKey,
		"CLOUDFLIX_S3_SECRET_KEY=" + s3.SecretKey,
		"CLOUDFLIX_S3_BUCKET=" + s3.Bucket,
	}}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if q, err := amqpqueue.Open(ctx, amqpqueue.Options{URL: testenv.AMQPURL(), Queue: queueName}); err == nil {
			_ = q.DeleteTopology(ctx)
			_ = q.Close()
		}
		if st, err := openS3(ctx, s3); err == nil {
			_ = st.DeletePrefix(ctx, "videos/")
			_ = st.DeletePrefix(ctx, "sources/")
		}
	})
	return b
}

// openS3 opens the bucket of s3 as the platform does.
func openS3(ctx context.Context, s3 testenv.S3) (*s3blob.Store, error) {
	return s3blob.Open(ctx, s3blob.Options{Endpoint: s3.Endpoint, AccessKey: s3.AccessKey, SecretKey: s3.SecretKey, Bucket: s3.Bucket})
}

func freeAddr(t *testing.T) string {
	t.Helper()
	a, err := testenv.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return a
}
