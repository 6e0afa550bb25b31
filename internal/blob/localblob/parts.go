package localblob

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cloudflix/cloudflix/internal/blob"
)

// PresignPart returns a URL, valid for ttl, to which a client PUTs the
// size bytes of one part with no other header (Content-MD5 optional); the
// response's ETag header names the stored part. Part numbers run from 1 to
// MaxParts. Like S3's, the URL is pure computation: whether the upload
// exists is checked when it is used.
func (s *Store) PresignPart(ctx context.Context, key, uploadID string, partNumber int, size int64, ttl time.Duration) (string, error) {
	switch {
	case partNumber < 1 || partNumber > MaxParts:
		return "", fmt.Errorf("localblob: presign part %d of %s: part number out of 1..%d", partNumber, key, MaxParts)
	case size < 0 || size > s.maxPart:
		return "", fmt.Errorf("localblob: presign part %d of %s: size %d out of 0..%d", partNumber, key, size, s.maxPart)
	case ttl <= 0:
		return "", fmt.Errorf("localblob: presign part %d of %s: ttl %v is not positive", partNumber, key, ttl)
	}
	if err := checkKey(key); err != nil {
		return "", fmt.Errorf("localblob: presign part %d: %w", partNumber, err)
	}
	if err := checkUploadID(uploadID); err != nil {
		return "", fmt.Errorf("localblob: presign part %d of %s: upload id %q: %w", partNumber, key, uploadID, err)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("localblob: presign part %d of %s: %w", partNumber, key, err)
	}
	g := grant{uploadID: uploadID, part: strconv.Itoa(partNumber), size: strconv.FormatInt(size, 10),
		expires: strconv.FormatInt(time.Now().Add(ttl).Unix(), 10)}
	q := url.Values{}
	q.Set("size", g.size)
	q.Set("expires", g.expires)
	q.Set("sig", s.sign(g))
	return s.partURL + "/" + uploadID + "/" + g.part + "?" + q.Encode(), nil
}

// grant is what a part URL allows, as its text: one PUT of exactly size
// bytes to one part of one upload until a time. The upload id binds the
// key.
type grant struct {
	uploadID, part, size, expires string
}

// sign is the hex HMAC-SHA256 of a grant.
func (s *Store) sign(g grant) string {
	m := hmac.New(sha256.New, s.signingKey)
	fmt.Fprintf(m, "%s\n%s\n%s\n%s\n%s", http.MethodPut, g.uploadID, g.part, g.size, g.expires)
	return hex.EncodeToString(m.Sum(nil))
}

// validSignature compares in constant time, so timing reveals nothing of
// the expected signature.
func (s *Store) validSignature(g grant, sig string) bool {
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	want, _ := hex.DecodeString(s.sign(g))
	return hmac.Equal(got, want)
}

// PartHandler serves the presigned part URLs: PUT <PartURL>/<uploadID>/<n>
// ?size=&expires=&sig= stores the body as part n and answers 200 with the
// part's quoted ETag, as S3 does. Everything is checked before a byte is
// stored: it answers 403 to a bad signature or an expired URL, 411 to a
// body without a Content-Length (chunked), 400 to a Content-Length other
// than the URL's size or a malformed Content-MD5, 429 with Retry-After
// when PartsPerUpload PUTs to the upload are already under way, 404 to an
// upload that does not exist (or no longer does), and 400 to a part number
// out of range. A body that ends before its length, or whose bytes do not
// match its Content-MD5 (400), is not stored. Browsers may PUT from
// another origin: it answers CORS preflights and exposes the ETag header.
//
// It only looks at the last two segments of the path, so it works mounted
// with or without http.StripPrefix.
func (s *Store) PartHandler() http.Handler { return http.HandlerFunc(s.servePart) }

func (s *Store) servePart(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "ETag")
	switch r.Method {
	case http.MethodOptions:
		h.Set("Access-Control-Allow-Methods", "PUT, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type, Content-Length, Content-MD5")
		h.Set("Access-Control-Max-Age", "3600")
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPut:
	default:
		h.Set("Allow", "PUT, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	uploadID, num, ok := partPath(r.URL.Path)
	if !ok {
		http.Error(w, "no such part URL", http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	g := grant{uploadID: uploadID, part: num, size: q.Get("size"), expires: q.Get("expires")}
	if !s.validSignature(g, q.Get("sig")) {
		http.Error(w, "signature does not match", http.StatusForbidden)
		return
	}
	if exp, err := strconv.ParseInt(g.expires, 10, 64); err != nil || time.Now().After(time.Unix(exp, 0)) {
		http.Error(w, "URL expired", http.StatusForbidden)
		return
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > MaxParts || strconv.Itoa(n) != num {
		http.Error(w, fmt.Sprintf("part number out of 1..%d", MaxParts), http.StatusBadRequest)
		return
	}
	size, err := strconv.ParseInt(g.size, 10, 64)
	if err != nil || size < 0 || size > s.maxPart {
		http.Error(w, fmt.Sprintf("part size out of 0..%d", s.maxPart), http.StatusBadRequest)
		return
	}
	switch {
	case r.ContentLength < 0:
		http.Error(w, fmt.Sprintf("a part is sent with its Content-Length (%d bytes), not chunked", size), http.StatusLengthRequired)
		return
	case r.ContentLength != size:
		http.Error(w, fmt.Sprintf("this URL takes exactly %d bytes, not %d", size, r.ContentLength), http.StatusBadRequest)
		return
	}
	sum, err := contentMD5(r.Header)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !s.putting.Acquire(uploadID) {
		// Parts are retried; a client asking for more at once than an
		// upload needs is told to come back rather than queued.
		h.Set("Retry-After", "1")
		http.Error(w, fmt.Sprintf("%d parts of this upload are being sent already", s.putting.Limit()), http.StatusTooManyRequests)
		return
	}
	defer s.putting.Release(uploadID)
	// The server reads no more than Content-Length anyway; the limit keeps
	// that so whatever wraps the body.
	etag, err := s.putPart(r.Context(), uploadID, n, http.MaxBytesReader(w, r.Body, size), size, sum)
	switch {
	case err == nil:
		h.Set("ETag", `"`+etag+`"`)
		w.WriteHeader(http.StatusOK)
	case errors.Is(err, blob.ErrNotFound):
		http.Error(w, "no such upload", http.StatusNotFound)
	case errors.Is(err, errBadDigest):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case r.Context().Err() != nil, errors.Is(err, io.ErrUnexpectedEOF), isTimeout(err):
		// The body ended early or stalled, and nothing was stored: the
		// connection is the client's problem, whether or not it is there
		// to read this.
		http.Error(w, "the part's body ended before its length", http.StatusBadRequest)
	default:
		slog.ErrorContext(r.Context(), "localblob: store part", "upload_id", uploadID, "part", n, "err", err)
		http.Error(w, "could not store the part", http.StatusInternalServerError)
	}
}

// errBadDigest: the bytes of a part are not those its Content-MD5 names.
var errBadDigest = errors.New("the part's bytes do not match its Content-MD5")

// contentMD5 reads the Content-MD5 a client may send with a part (base64
// of the 16 bytes of the MD5, RFC 1864), or nil when it sent none.
func contentMD5(h http.Header) ([]byte, error) {
	v := h.Get("Content-MD5")
	if v == "" {
		return nil, nil
	}
	sum, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(sum) != md5.Size {
		return nil, errors.New("Content-MD5 is not the base64 of an MD5")
	}
	return sum, nil
}

// isTimeout reports whether err is a read that hit its deadline, as a
// connection cut for going too slowly does.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// partPath splits ".../<uploadID>/<partNumber>".
func partPath(p string) (uploadID, partNumber string, ok bool) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", "", false
	}
	partNumber = p[i+1:]
	j := strings.LastIndexByte(p[:i], '/')
	uploadID = p[j+1 : i]
	if uploadID == "" || partNumber == "" || checkUploadID(uploadID) != nil {
		return "", "", false
	}
	return uploadID, partNumber, true
}
