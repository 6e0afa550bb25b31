package s3blob

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/blob/blobtest"
	"github.com/cloudflix/cloudflix/internal/testenv"
)

func TestContract(t *testing.T) {
	t.Parallel()
	blobtest.Run(t, func(t *testing.T) blobtest.Store { return openBucket(t, "") })
}

// openBucket opens a store on a fresh bucket of the test's own, and removes
// the bucket with everything in it when the test ends.
func openBucket(t *testing.T, publicEndpoint string) *Store {
	t.Helper()
	env := testenv.S3Bucket(t)
	s, err := Open(t.Context(), Options{
		Endpoint:       env.Endpoint,
		PublicEndpoint: publicEndpoint,
		AccessKey:      env.AccessKey,
		SecretKey:      env.SecretKey,
		Bucket:         env.Bucket,
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.EnsureBucket(t.Context()); err != nil {
		t.Fatalf("EnsureBucket: %v", err)
	}
	t.Cleanup(func() { removeBucket(t, s) })
	return s
}

func removeBucket(t *testing.T, s *Store) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for u := range s.client.ListIncompleteUploads(ctx, s.bucket, "", true) {
		if u.Err != nil {
			t.Errorf("cleanup: list uploads: %v", u.Err)
			break
		}
		if err := s.core.AbortMultipartUpload(ctx, s.bucket, u.Key, u.UploadID); err != nil {
			t.Errorf("cleanup: abort %s: %v", u.Key, err)
		}
	}
	objects := s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Recursive: true})
	for e := range s.client.RemoveObjects(ctx, s.bucket, objects, minio.RemoveObjectsOptions{}) {
		t.Errorf("cleanup: remove %s: %v", e.ObjectName, e.Err)
	}
	if err := s.client.RemoveBucket(ctx, s.bucket); err != nil {
		t.Errorf("cleanup: remove bucket %s: %v", s.bucket, err)
	}
}

// Clients reach the server by another name than the services do; the
// presigned URL must name, and be signed for, the public one.
func TestPresignForPublicEndpoint(t *testing.T) {
	t.Parallel()
	env := testenv.S3Server(t)
	_, port, err := net.SplitHostPort(env.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	public := "localhost:" + port
	s := openBucket(t, "http://"+public)
	ctx := t.Context()
	id, err := s.CreateMultipart(ctx, "sources/public", "video/mp4")
	if err != nil {
		t.Fatalf("CreateMultipart: %v", err)
	}
	data := []byte("a single small last part")
	raw, err := s.PresignPart(ctx, "sources/public", id, 1, int64(len(data)), time.Minute)
	if err != nil {
		t.Fatalf("PresignPart: %v", err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.Host != public || u.Scheme != "http" {
		t.Fatalf("presigned URL %s, want it on http://%s", raw, public)
	}
	if q := u.Query(); q.Get("partNumber") != "1" || q.Get("uploadId") != id || q.Get("X-Amz-SignedHeaders") != "content-length;host" {
		t.Errorf("presigned URL query %v, want partNumber=1, uploadId=%s and the length among the signed headers", q, id)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, raw, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT through the public endpoint: %s: %s", resp.Status, body)
	}
	info, err := s.CompleteMultipart(ctx, "sources/public", id, []blob.Part{{Number: 1, ETag: resp.Header.Get("ETag")}})
	if err != nil {
		t.Fatalf("CompleteMultipart with a quoted ETag: %v", err)
	}
	if info.Size != int64(len(data)) {
		t.Errorf("size %d, want %d", info.Size, len(data))
	}
}

func TestPingMissingBucket(t *testing.T) {
	t.Parallel()
	env := testenv.S3Bucket(t)
	s, err := Open(t.Context(), Options{Endpoint: env.Endpoint, AccessKey: env.AccessKey, SecretKey: env.SecretKey, Bucket: env.Bucket})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Error("Ping of a bucket never created succeeded")
	}
}

func TestDeleteEmptyPrefixIsRefused(t *testing.T) {
	t.Parallel()
	s := openBucket(t, "")
	if err := s.Put(t.Context(), "k", bytes.NewReader([]byte("v")), 1, "text/plain"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePrefix(t.Context(), ""); err == nil {
		t.Error("DeletePrefix(\"\") succeeded")
	}
	if _, err := s.Stat(t.Context(), "k"); err != nil {
		t.Errorf("object gone after a refused DeletePrefix: %v", err)
	}
}

func TestParsePublicEndpoint(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in     string
		useTLS bool
		host   string
		secure bool
		bad    bool
	}{
		{in: "media.example.com:9000", host: "media.example.com:9000"},
		{in: "media.example.com", useTLS: true, host: "media.example.com", secure: true},
		{in: "https://media.example.com", host: "media.example.com", secure: true},
		{in: "http://127.0.0.1:9000/", useTLS: true, host: "127.0.0.1:9000"},
		{in: "https://media.example.com/s3", bad: true},
		{in: "ftp://media.example.com", bad: true},
	} {
		host, secure, err := parsePublicEndpoint(c.in, c.useTLS)
		if c.bad {
			if err == nil {
				t.Errorf("parsePublicEndpoint(%q) = %q, %v; want an error", c.in, host, secure)
			}
			continue
		}
		if err != nil || host != c.host || secure != c.secure {
			t.Errorf("parsePublicEndpoint(%q, %v) = %q, %v, %v; want %q, %v", c.in, c.useTLS, host, secure, err, c.host, c.secure)
		}
	}
}
