// Package blob holds the vocabulary of CloudFlix's object storage port: object
// metadata, multipart parts and the errors adapters return. Consumers declare
// the interface they need in their own package; adapters live in sub-packages
// (s3blob) and all of them pass the contract suite in blobtest. Nothing here
// talks to a store.
package blob

import (
	"errors"
	"io"
	"time"
)

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
