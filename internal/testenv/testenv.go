// Package testenv gives tests their own slice of the real backing servers:
// a fresh PostgreSQL database, a Redis key prefix, RabbitMQ queue names and an
// S3 bucket, each removed when the test ends. It never fakes a server: when
// one is unreachable the test fails and says how to start it.
//
// Under -short (`make test-short`, no servers at hand) each function that
// hands a test a server or a tool (Postgres, RedisPrefix, QueueName,
// S3Server, S3Bucket, RequireFFmpeg, GenerateClip) skips the test instead,
// so a test reaches a server only through one of them, before any other
// use of it; the bare addresses (RedisAddr, AMQPURL, PostgresAdminURL)
// take no test and skip nothing.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// Name returns a short unique name with the given prefix, safe for a
// database, bucket, queue or key prefix.
func Name(prefix string) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b)
}

// needs skips t under -short, which runs with no server or tool at hand;
// without -short, a missing server fails the test where it is used.
func needs(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("testenv: needs %s, and -short runs without servers", what)
	}
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// PostgresAdminURL is the server tests create their databases on.
func PostgresAdminURL() string {
	return env("CLOUDFLIX_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
}

// Postgres creates an empty database for the test and returns its URL. The
// database is dropped when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	needs(t, "PostgreSQL")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := PostgresAdminURL()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("testenv: PostgreSQL at %s is not reachable (%v); start it or set CLOUDFLIX_TEST_POSTGRES_URL", admin, err)
	}
	defer conn.Close(ctx)
	db := Name("cftest_")
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatalf("testenv: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("testenv: drop database %s: %v", db, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
			t.Logf("testenv: drop database %s: %v", db, err)
		}
	})
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", cfg.User, net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)), db)
}

// RedisAddr is the Redis server tests use.
func RedisAddr() string { return env("CLOUDFLIX_TEST_REDIS_ADDR", "127.0.0.1:6379") }

// RedisPrefix returns a key prefix of the test's own; every key under it is
// deleted when the test ends.
func RedisPrefix(t testing.TB) string {
	t.Helper()
	needs(t, "Redis")
	prefix := Name("cftest:") + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rdb := redis.NewClient(&redis.Options{Addr: RedisAddr()})
		defer rdb.Close()
		// The prefix has no glob characters (Name makes hex), so it can be
		// matched as it is.
		iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			if err := rdb.Del(ctx, iter.Val()).Err(); err != nil {
				t.Errorf("testenv: delete %s: %v", iter.Val(), err)
			}
		}
		if err := iter.Err(); err != nil {
			t.Errorf("testenv: scan %s*: %v", prefix, err)
		}
	})
	return prefix
}

// AMQPURL is the RabbitMQ server tests use.
func AMQPURL() string { return env("CLOUDFLIX_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/") }

// QueueName returns a queue name of the test's own.
func QueueName(t testing.TB) string {
	t.Helper()
	needs(t, "RabbitMQ")
	return Name("cftest.encode.")
}

// S3 is an S3 server and a bucket of the test's own.
type S3 struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
	Bucket    string
}

var (
	s3Once   sync.Once
	s3Server S3
	s3Err    error
)

// S3Server returns the S3 server tests use: the one named by
// CLOUDFLIX_TEST_S3_ENDPOINT (with CLOUDFLIX_TEST_S3_ACCESS_KEY and
// CLOUDFLIX_TEST_S3_SECRET_KEY), or else a versitygw started for this test
// process on a free loopback port, which dies with the process.
func S3Server(t testing.TB) S3 {
	t.Helper()
	needs(t, "an S3 server")
	s3Once.Do(func() { s3Server, s3Err = startS3() })
	if s3Err != nil {
		t.Fatalf("testenv: %v", s3Err)
	}
	return s3Server
}

// S3Bucket returns the S3 server with a bucket name of the test's own; the
// caller creates the bucket (through the adapter under test).
func S3Bucket(t testing.TB) S3 {
	t.Helper()
	s := S3Server(t)
	s.Bucket = Name("cftest-")
	return s
}

func startS3() (S3, error) {
	if ep := os.Getenv("CLOUDFLIX_TEST_S3_ENDPOINT"); ep != "" {
		return S3{
			Endpoint:  ep,
			AccessKey: env("CLOUDFLIX_TEST_S3_ACCESS_KEY", "cloudflix"),
			SecretKey: env("CLOUDFLIX_TEST_S3_SECRET_KEY", "cloudflix-secret"),
		}, nil
	}
	bin, err := VersityGW()
	if err != nil {
		return S3{}, err
	}
	dir, err := os.MkdirTemp("", "cloudflix-s3-")
	if err != nil {
		return S3{}, err
	}
	addr, err := FreeAddr()
	if err != nil {
		return S3{}, err
	}
	s := S3{Endpoint: addr, AccessKey: "cloudflix", SecretKey: "cloudflix-secret"}
	// Browsers PUT upload parts straight to the server from the UI's
	// origin: without a bucket CORS configuration this default answers
	// their preflights (methods and headers mirrored from the request).
	cmd := exec.Command(bin, "--access", s.AccessKey, "--secret", s.SecretKey, "--port", addr,
		"--cors-allow-origin", "*", "--quiet", "posix", dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return S3{}, fmt.Errorf("start %s: %w", bin, err)
	}
	if err := WaitTCP(addr, 20*time.Second); err != nil {
		_ = cmd.Process.Kill()
		return S3{}, fmt.Errorf("versitygw did not start: %w", err)
	}
	return s, nil
}

// VersityGW finds the versitygw binary: on PATH, or in the repository's
// .bin folder where `make tools` installs it.
func VersityGW() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	p := filepath.Join(RepoRoot(), ".bin", "versitygw")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("no versitygw on PATH or in %s: run `make tools` (or `make test`, which does it)", filepath.Dir(p))
}

// RepoRoot is the repository's top folder.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// FreeAddr returns a loopback host:port that was free a moment ago.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// WaitTCP polls addr until it accepts a connection or the deadline passes.
func WaitTCP(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// RequireFFmpeg fails the test when ffmpeg or ffprobe is missing, and
// skips it under -short.
func RequireFFmpeg(t testing.TB) {
	t.Helper()
	needs(t, "ffmpeg")
	for _, name := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(name); err != nil {
			t.Fatalf("testenv: %s not found: run `make tools` (it installs Debian's ffmpeg)", name)
		}
	}
}

// GenerateClip writes a test clip made by ffmpeg's lavfi sources: a test
// pattern with a moving counter and, when audio is true, a sine tone.
func GenerateClip(t testing.TB, path string, width, height int, seconds float64, audio bool) {
	t.Helper()
	generateClip(t, path, fmt.Sprintf("testsrc2=size=%dx%d:rate=30:duration=%g", width, height, seconds), seconds, audio)
}

// GenerateLargeClip writes a clip as GenerateClip does, with noise over the
// picture, encoded at almost lossless quality: about 5 MB a second at
// 320x240, so a test gets a file of many upload parts from a cheap encode.
func GenerateLargeClip(t testing.TB, path string, width, height int, seconds float64, audio bool) {
	t.Helper()
	generateClip(t, path, fmt.Sprintf("testsrc2=size=%dx%d:rate=30:duration=%g,noise=alls=100:allf=t", width, height, seconds), seconds, audio, "-qp", "1")
}

// generateClip encodes the lavfi video source to H.264, with a sine tone
// when audio is true; x264 adds options of the encoder.
func generateClip(t testing.TB, path, video string, seconds float64, audio bool, x264 ...string) {
	t.Helper()
	RequireFFmpeg(t)
	args := []string{"-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", video}
	if audio {
		args = append(args, "-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:sample_rate=48000:duration=%g", seconds))
	}
	args = append(args, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
	args = append(args, x264...)
	if audio {
		args = append(args, "-c:a", "aac", "-shortest")
	}
	args = append(args, path)
	out, err := exec.Command("ffmpeg", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("testenv: generate clip: %v\n%s", err, strings.TrimSpace(string(out)))
	}
}
