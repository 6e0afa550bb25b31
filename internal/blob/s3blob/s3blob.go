// Package s3blob is CloudFlix's object storage adapter for the S3 API
// (MinIO, AWS S3, Ceph RGW, SeaweedFS, versitygw), built on minio-go. It
// stores and reads objects in one bucket and runs the multipart uploads whose
// parts clients PUT straight to presigned URLs. It must never proxy upload
// bytes itself and never creates the bucket unless asked (EnsureBucket).
package s3blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/cloudflix/cloudflix/internal/blob"
)

// DefaultRegion is used when Options.Region is empty: it is what S3-compatible
// servers answer by default, and an explicit region spares minio-go a
// bucket-location lookup before every first request.
const DefaultRegion = "us-east-1"

// Options says where the bucket is and how to reach it.
type Options struct {
	// Endpoint is the host:port the server is reached at by this process.
	Endpoint string
	// PublicEndpoint is the host:port (or http(s):// URL) clients use to
	// reach the same server, when it differs from Endpoint (e.g. a cluster
	// service name versus an ingress). Presigned URLs are signed for it.
	// Empty means Endpoint.
	PublicEndpoint string
	AccessKey      string
	SecretKey      string
	Bucket         string
	// Region defaults to DefaultRegion.
	Region string
	UseTLS bool
	// Transport is the optional HTTP transport, e.g. wrapped by otelhttp.
	Transport http.RoundTripper
}

// Store is one bucket on an S3-compatible server.
type Store struct {
	client  *minio.Client
	core    minio.Core
	presign *minio.Client // signs for PublicEndpoint; the same as client when there is none
	bucket  string
}

// Open connects to the server without any network call; it does not create
// the bucket (see EnsureBucket) nor check that it exists (see Ping).
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.Endpoint == "" || o.Bucket == "" {
		return nil, errors.New("s3blob: endpoint and bucket are required")
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	client, err := newClient(o.Endpoint, o.UseTLS, o)
	if err != nil {
		return nil, fmt.Errorf("s3blob: endpoint %s: %w", o.Endpoint, err)
	}
	s := &Store{client: client, core: minio.Core{Client: client}, presign: client, bucket: o.Bucket}
	if o.PublicEndpoint != "" {
		host, secure, err := parsePublicEndpoint(o.PublicEndpoint, o.UseTLS)
		if err != nil {
			return nil, fmt.Errorf("s3blob: public endpoint %s: %w", o.PublicEndpoint, err)
		}
		if host != o.Endpoint || secure != o.UseTLS {
			// Presigning is pure computation, so this client never dials;
			// the explicit region keeps it from asking for the bucket location.
			if s.presign, err = newClient(host, secure, o); err != nil {
				return nil, fmt.Errorf("s3blob: public endpoint %s: %w", o.PublicEndpoint, err)
			}
		}
	}
	return s, nil
}

func newClient(endpoint string, secure bool, o Options) (*minio.Client, error) {
	lookup := minio.BucketLookupPath
	if s3utils.IsAmazonEndpoint(url.URL{Host: endpoint}) {
		// AWS prefers virtual-hosted style; other servers often only route
		// path-style requests.
		lookup = minio.BucketLookupAuto
	}
	return minio.New(endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(o.AccessKey, o.SecretKey, ""),
		Secure:       secure,
		Region:       o.Region,
		BucketLookup: lookup,
		Transport:    o.Transport,
	})
}

// parsePublicEndpoint accepts host:port or an http(s) URL without a path.
func parsePublicEndpoint(s string, useTLS bool) (host string, secure bool, err error) {
	if !strings.Contains(s, "://") {
		return s, useTLS, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", false, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", false, fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		return "", false, errors.New("want scheme://host[:port] with no path or query")
	}
	return u.Host, u.Scheme == "https", nil
}

// EnsureBucket creates the bucket unless it exists. Concurrent callers may
// race to create it; losing that race is success.
func (s *Store) EnsureBucket(ctx context.Context) error {
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("s3blob: bucket %s: %w", s.bucket, err)
	}
	if exists {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{})
	if err == nil {
		return nil
	}
	if exists, existsErr := s.client.BucketExists(ctx, s.bucket); existsErr == nil && exists {
		return nil
	}
	return fmt.Errorf("s3blob: create bucket %s: %w", s.bucket, err)
}

// Ping checks that the server answers and the bucket exists.
func (s *Store) Ping(ctx context.Context) error {
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("s3blob: bucket %s: %w", s.bucket, err)
	}
	if !exists {
		return fmt.Errorf("s3blob: bucket %s does not exist", s.bucket)
	}
	return nil
}

// Put stores size bytes from r under key. A size of -1 means unknown, which
// makes minio-go buffer the stream into multipart chunks.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	_, err := s.client.PutObject(ctx, s.bucket, key, r, size, minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return fmt.Errorf("s3blob: put %s: %w", key, err)
	}
	return nil
}

// PutFile stores the local file at path under key.
func (s *Store) PutFile(ctx context.Context, key, path, contentType string) error {
	_, err := s.client.FPutObject(ctx, s.bucket, key, path, minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return fmt.Errorf("s3blob: put %s from %s: %w", key, path, err)
	}
	return nil
}

// object is a stored object read lazily: each Read after a Seek is a ranged
// GET, pinned to the ETag seen at open so a replaced object is not mixed in.
type object struct {
	obj  *minio.Object
	info blob.ObjectInfo
}

func (o *object) Read(p []byte) (int, error) { return o.obj.Read(p) }
func (o *object) Seek(offset int64, whence int) (int64, error) {
	return o.obj.Seek(offset, whence)
}
func (o *object) Close() error          { return o.obj.Close() }
func (o *object) Info() blob.ObjectInfo { return o.info }

// Open opens the object under key for reading at any offset. It returns
// blob.ErrNotFound when there is no such object.
func (s *Store) Open(ctx context.Context, key string) (blob.Object, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("s3blob: open %s: %w", key, mapErr(err))
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, fmt.Errorf("s3blob: open %s: %w", key, mapErr(err))
	}
	return &object{obj: obj, info: toInfo(st)}, nil
}

// Stat describes the object under key, or returns blob.ErrNotFound.
func (s *Store) Stat(ctx context.Context, key string) (blob.ObjectInfo, error) {
	st, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return blob.ObjectInfo{}, fmt.Errorf("s3blob: stat %s: %w", key, mapErr(err))
	}
	return toInfo(st), nil
}

// Download copies the object under key to the local file at path. minio-go
// writes a temporary file next to path and renames it, so path never holds
// a partial download.
func (s *Store) Download(ctx context.Context, key, path string) error {
	if err := s.client.FGetObject(ctx, s.bucket, key, path, minio.GetObjectOptions{}); err != nil {
		return fmt.Errorf("s3blob: download %s to %s: %w", key, path, mapErr(err))
	}
	return nil
}

// DeletePrefix removes every object whose key starts with prefix. An empty
// prefix is refused: it would empty the bucket.
func (s *Store) DeletePrefix(ctx context.Context, prefix string) error {
	if prefix == "" {
		return errors.New("s3blob: delete prefix: empty prefix would delete every object")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	keys := make(chan minio.ObjectInfo)
	listed := make(chan error, 1)
	go func() {
		defer close(keys)
		for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if o.Err != nil {
				listed <- o.Err
				return
			}
			select {
			case keys <- o:
			case <-ctx.Done():
				listed <- ctx.Err()
				return
			}
		}
		listed <- nil
	}()
	var removeErr error
	for e := range s.client.RemoveObjects(ctx, s.bucket, keys, minio.RemoveObjectsOptions{}) {
		if removeErr == nil && e.Err != nil && !errors.Is(mapErr(e.Err), blob.ErrNotFound) {
			removeErr = fmt.Errorf("%s: %w", e.ObjectName, e.Err)
		}
	}
	// Should removal stop before the listing does, the cancel frees the lister.
	cancel()
	listErr := <-listed
	if removeErr != nil {
		// A cancelled listing is only the echo of the removal failure.
		listErr = nil
	}
	if err := errors.Join(listErr, removeErr); err != nil {
		return fmt.Errorf("s3blob: delete prefix %s: %w", prefix, err)
	}
	return nil
}

// Delete removes the objects under keys, up to a thousand in one request.
// A key with no object is no error.
func (s *Store) Delete(ctx context.Context, keys []string) error {
	ch := make(chan minio.ObjectInfo)
	go func() {
		defer close(ch)
		for _, k := range keys {
			select {
			case ch <- minio.ObjectInfo{Key: k}:
			case <-ctx.Done():
				return
			}
		}
	}()
	var err error
	for e := range s.client.RemoveObjects(ctx, s.bucket, ch, minio.RemoveObjectsOptions{}) {
		if err == nil && e.Err != nil && !errors.Is(mapErr(e.Err), blob.ErrNotFound) {
			err = fmt.Errorf("%s: %w", e.ObjectName, e.Err)
		}
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("s3blob: delete: %w", err)
	}
	return nil
}

// List implements [blob.Store.List]. Entries carry their key, size, time
// and ETag, as the listing gives them; no content type.
func (s *Store) List(ctx context.Context, prefix string, folders bool, fn func(blob.ObjectInfo) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops minio-go's listing when fn stops early
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: !folders}) {
		if o.Err != nil {
			return fmt.Errorf("s3blob: list %s: %w", prefix, o.Err)
		}
		// A folder comes as its prefix alone, all else zero.
		if err := fn(toInfo(o)); err != nil {
			return err
		}
	}
	return nil
}

// CreateMultipart starts a multipart upload to key and returns its id.
func (s *Store) CreateMultipart(ctx context.Context, key, contentType string) (string, error) {
	id, err := s.core.NewMultipartUpload(ctx, s.bucket, key, minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return "", fmt.Errorf("s3blob: create multipart %s: %w", key, err)
	}
	return id, nil
}

// PresignPart returns a URL, valid for ttl, to which a client PUTs the
// size bytes of one part with no other header (Content-MD5 optional); the
// response's ETag header names the stored part. Part numbers run from 1 to
// 10000. Content-Length is one of the URL's signed headers, so the server
// refuses a body of any other length, or a chunked one, as a signature
// that does not match (403), before it stores anything.
func (s *Store) PresignPart(ctx context.Context, key, uploadID string, partNumber int, size int64, ttl time.Duration) (string, error) {
	switch {
	case partNumber < 1 || partNumber > 10000:
		return "", fmt.Errorf("s3blob: presign part %d of %s: part number out of 1..10000", partNumber, key)
	case size < 0 || size > maxPartSize:
		return "", fmt.Errorf("s3blob: presign part %d of %s: size %d out of 0..%d", partNumber, key, size, int64(maxPartSize))
	}
	params := url.Values{}
	params.Set("partNumber", strconv.Itoa(partNumber))
	params.Set("uploadId", uploadID)
	signed := http.Header{"Content-Length": {strconv.FormatInt(size, 10)}}
	u, err := s.presign.PresignHeader(ctx, http.MethodPut, s.bucket, key, ttl, params, signed)
	if err != nil {
		return "", fmt.Errorf("s3blob: presign part %d of %s: %w", partNumber, key, err)
	}
	return u.String(), nil
}

// maxPartSize is S3's limit on one part.
const maxPartSize = 5 << 30

// ListParts returns the parts stored so far, in part-number order, so an
// interrupted upload can resume. An unknown (or aborted, or completed) upload
// id gives blob.ErrNotFound.
func (s *Store) ListParts(ctx context.Context, key, uploadID string) ([]blob.Part, error) {
	var parts []blob.Part
	marker := 0
	for {
		res, err := s.core.ListObjectParts(ctx, s.bucket, key, uploadID, marker, 1000)
		if err != nil {
			return nil, fmt.Errorf("s3blob: list parts of %s: %w", key, mapErr(err))
		}
		for _, p := range res.ObjectParts {
			parts = append(parts, blob.Part{Number: p.PartNumber, Size: p.Size, ETag: trimETag(p.ETag)})
		}
		if !res.IsTruncated || res.NextPartNumberMarker <= marker {
			break
		}
		marker = res.NextPartNumberMarker
	}
	slices.SortFunc(parts, func(a, b blob.Part) int { return a.Number - b.Number })
	return parts, nil
}

// CompleteMultipart joins parts (in any order; ETags quoted or not) into the
// object under key and describes the result.
func (s *Store) CompleteMultipart(ctx context.Context, key, uploadID string, parts []blob.Part) (blob.ObjectInfo, error) {
	complete := make([]minio.CompletePart, len(parts))
	for i, p := range parts {
		complete[i] = minio.CompletePart{PartNumber: p.Number, ETag: trimETag(p.ETag)}
	}
	slices.SortFunc(complete, func(a, b minio.CompletePart) int { return a.PartNumber - b.PartNumber })
	if _, err := s.core.CompleteMultipartUpload(ctx, s.bucket, key, uploadID, complete, minio.PutObjectOptions{}); err != nil {
		return blob.ObjectInfo{}, fmt.Errorf("s3blob: complete multipart %s: %w", key, mapErr(err))
	}
	// The completion response carries no size or content type.
	return s.Stat(ctx, key)
}

// AbortMultipart discards an upload and its stored parts.
func (s *Store) AbortMultipart(ctx context.Context, key, uploadID string) error {
	if err := s.core.AbortMultipartUpload(ctx, s.bucket, key, uploadID); err != nil {
		return fmt.Errorf("s3blob: abort multipart %s: %w", key, mapErr(err))
	}
	return nil
}

func toInfo(st minio.ObjectInfo) blob.ObjectInfo {
	return blob.ObjectInfo{
		Key:          st.Key,
		Size:         st.Size,
		ETag:         trimETag(st.ETag),
		ContentType:  st.ContentType,
		LastModified: st.LastModified,
	}
}

// trimETag drops the quotes S3 puts around ETags, so every ETag this
// package hands out has one spelling.
func trimETag(etag string) string { return strings.Trim(etag, `"`) }

// mapErr turns the server's "no such object/upload" into blob.ErrNotFound.
func mapErr(err error) error {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey, minio.NoSuchUpload:
		return blob.ErrNotFound
	}
	return err
}
