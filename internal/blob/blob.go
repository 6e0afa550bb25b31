// Package blob holds CloudFlix's object storage port: the whole interface an
// adapter implements, object metadata, multipart parts and the errors
// adapters return. Services declare the smaller interfaces they need in their
// own packages; adapters live in sub-packages (s3blob, localblob) and all of
// them pass the contract suite in blobtest. Nothing here talks to a store.
package blob

import (
	"context"
	"errors"
	"io"
	"time"
)

// Store is everything an object storage adapter does.
type Store interface {
	EnsureBucket(ctx context.Context) error
	Ping(ctx context.Context) error
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	PutFile(ctx context.Context, key, path, contentType string) error
	Open(ctx context.Context, key string) (Object, error)
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	Download(ctx context.Context, key, path string) error
	DeletePrefix(ctx context.Context, prefix string) error
	// Delete removes the objects under keys, exactly those; a key with no
	// object is no error.
	Delete(ctx context.Context, keys []string) error
	// List calls fn for each object whose key starts with prefix, in no
	// promised order, and stops at fn's first error, which it returns.
	// With folders, the keys that go on past a "/" after prefix are summed
	// up in one entry per folder, as S3's common prefixes are: its Key is
	// the folder's prefix, ending in "/", with no size or time.
	List(ctx context.Context, prefix string, folders bool, fn func(ObjectInfo) error) error
	CreateMultipart(ctx context.Context, key, contentType string) (uploadID string, err error)
	// PresignPart returns a URL, valid for ttl, to which a client PUTs part
	// partNumber of an upload: exactly size bytes, said in Content-Length.
	// Storage refuses a body of any other length, or of no declared length
	// (chunked), before it stores anything.
	PresignPart(ctx context.Context, key, uploadID string, partNumber int, size int64, ttl time.Duration) (string, error)
	ListParts(ctx context.Context, key, uploadID string) ([]Part, error)
	CompleteMultipart(ctx context.Context, key, uploadID string, parts []Part) (ObjectInfo, error)
	AbortMultipart(ctx context.Context, key, uploadID string) error
}

// ErrNotFound: no object (or multipart upload) under that key.
var ErrNotFound = errors.New("object not found")

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key          string
	Size         int64
	ETag         string
	ContentType  string
	LastModified time.Time
}

// Object is an open stored object that can be read at any offset, as
// http.ServeContent needs for Range requests.
type Object interface {
	io.ReadSeekCloser
	Info() ObjectInfo
}

// Part is one stored part of a multipart upload.
type Part struct {
	Number int
	Size   int64
	ETag   string
}
