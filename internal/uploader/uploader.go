// Package uploader is the client side of CloudFlix's upload protocol, as
// the `cloudflix upload` command runs it against the REST API: create (or
// resume) an upload session, PUT the file's parts in parallel to the
// presigned URLs the API hands out, retrying each, then complete.
//
// It speaks only the public HTTP API and the URLs that API returns; it must
// never hold object-store credentials or read more of the file into memory
// than a part in flight.
package uploader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cloudflix/cloudflix/internal/video"
)

// Options configure an upload.
type Options struct {
	// Server is the API's base URL, e.g. http://localhost:8080.
	Server string
	// Token is the API token (cft_...) the API calls carry as a bearer
	// token; part uploads carry none, their URLs are signed.
	Token string
	// HTTPClient sends every request; nil uses a client without a timeout
	// (a part can take long on a slow link; ctx bounds the whole upload).
	HTTPClient *http.Client
	// Parallel is how many parts are PUT at once; default 4.
	Parallel int
	// MaxRetries is how many times one part is retried after a network
	// error, 5xx, 408 or 429, with exponential backoff and jitter; default 5.
	MaxRetries int
	// StateDir keeps what is needed to resume an interrupted upload;
	// default os.UserCacheDir()/cloudflix/uploads.
	StateDir string
	// Progress receives a progress bar (bytes, speed, ETA); nil shows none.
	Progress io.Writer
}

// Metadata describes the video being uploaded.
type Metadata struct {
	Title       string
	Description string
	Tags        []string
	Privacy     string // public, unlisted or private; "" is public
}

func (o Options) withDefaults() (Options, error) {
	o.Server = strings.TrimRight(o.Server, "/")
	if o.Server == "" {
		return o, errors.New("no server given")
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 5
	}
	if o.StateDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return o, fmt.Errorf("find a directory for resume state: %w", err)
		}
		o.StateDir = filepath.Join(dir, "cloudflix", "uploads")
	}
	return o, nil
}

// Upload sends the file at path to the server and returns the new video's
// id once the server has accepted the whole file. An upload interrupted
// (ctx cancelled, network down, process killed) resumes where it stopped
// when Upload is called again for the same unchanged file, server and
// StateDir. When it fails after the server created the video, the video's
// id comes back with the error, so that the caller can name it.
func Upload(ctx context.Context, o Options, path string, m Metadata) (videoID string, err error) {
	o, err = o.withDefaults()
	if err != nil {
		return "", fmt.Errorf("upload %s: %w", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("upload: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("upload: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("upload %s: not a regular file", path)
	}
	contentType, err := detectContentType(f, path)
	if err != nil {
		return "", fmt.Errorf("upload %s: %w", path, err)
	}

	c := &client{server: o.Server, token: o.Token, http: o.HTTPClient, retries: o.MaxRetries}
	st, err := openState(o.StateDir, path, fi, o.Server)
	if err != nil {
		return "", fmt.Errorf("upload %s: %w", path, err)
	}
	sess, done, err := c.resume(ctx, st, fi.Size())
	if err != nil {
		return "", fmt.Errorf("upload %s: resume: %w", path, err)
	}
	if sess == nil {
		title := m.Title
		if title == "" {
			title = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		}
		sess, err = c.create(ctx, createRequest{
			Title: title, Description: m.Description, Tags: nonNil(m.Tags), Privacy: m.Privacy,
			Filename: filepath.Base(path), ContentType: contentType, SizeBytes: fi.Size(),
		})
		if err != nil {
			return "", fmt.Errorf("upload %s: %w", path, err)
		}
		if err := st.save(sess.VideoID); err != nil {
			return "", fmt.Errorf("upload %s: %w", path, err)
		}
	}

	if err := c.sendParts(ctx, o, f, sess, done); err != nil {
		return sess.VideoID, fmt.Errorf("upload %s (video %s): %w", path, sess.VideoID, err)
	}
	if err := c.complete(ctx, sess.VideoID); err != nil {
		return sess.VideoID, fmt.Errorf("upload %s (video %s): %w", path, sess.VideoID, err)
	}
	st.remove()
	return sess.VideoID, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// detectContentType names the file's media type by its extension, or else
// by its first bytes.
func detectContentType(f *os.File, path string) (string, error) {
	// Video containers first: the system's MIME table may not know them
	// (Go's built-in one, without /etc/mime.types) or may mean something
	// else (Debian's .ts is a Qt translation file).
	if t := video.SourceType(path); t != "" {
		return t, nil
	}
	ext := strings.ToLower(filepath.Ext(path))
	if t := mime.TypeByExtension(ext); t != "" {
		if mt, _, err := mime.ParseMediaType(t); err == nil {
			return mt, nil
		}
	}
	head := make([]byte, 512)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read: %w", err)
	}
	mt, _, _ := mime.ParseMediaType(http.DetectContentType(head[:n]))
	return mt, nil
}

// partRange is where part n (1-based) lies in a file of size cut into
// parts of partSize.
func partRange(n int32, partSize, size int64) (off, length int64) {
	off = int64(n-1) * partSize
	return off, min(partSize, size-off)
}

// signMargin is how long before its expiry a part URL is signed again: long
// enough that a PUT started with it finishes before it expires.
const signMargin = 2 * time.Minute
