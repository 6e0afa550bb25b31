package localblob

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cloudflix/cloudflix/internal/blob"
)

// PresignPart returns a URL, valid for ttl, to which a client PUTs the bytes
// of one part with no other header; the response's ETag header names the
// stored part. Part numbers run from 1 to MaxParts. Like S3's, the URL is
// pure computation: whether the upload exists is checked when it is used.
func (s *Store) PresignPart(ctx context.Context, key, uploadID string, partNumber int, ttl time.Duration) (string, error) {
	switch {
	case partNumber < 1 || partNumber > MaxParts:
		return "", fmt.Errorf("localblob: presign part %d of %s: part number out of 1..%d", partNumber, key, MaxParts)
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
	num := strconv.Itoa(partNumber)
	expires := strconv.FormatInt(time.Now().Add(ttl).Unix(), 10)
	q := url.Values{}
	q.Set("expires", expires)
	q.Set("sig", s.sign(uploadID, num, expires))
	return s.partURL + "/" + uploadID + "/" + num + "?" + q.Encode(), nil
}

// sign is the hex HMAC-SHA256 of what a part URL allows: one method on one
// part of one upload until a time. The upload id binds the key.
func (s *Store) sign(uploadID, partNumber, expires string) string {
	m := hmac.New(sha256.New, s.signingKey)
	fmt.Fprintf(m, "%s\n%s\n%s\n%s", http.MethodPut, uploadID, partNumber, expires)
	return hex.EncodeToString(m.Sum(nil))
}

// validSignature compares in constant time, so timing reveals nothing of
// the expected signature.
func (s *Store) validSignature(uploadID, partNumber, expires, sig string) bool {
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	want, _ := hex.DecodeString(s.sign(uploadID, partNumber, expires))
	return hmac.Equal(got, want)
}

// PartHandler serves the presigned part URLs: PUT <PartURL>/<uploadID>/<n>
// ?expires=&sig= stores the body as part n and answers 200 with the part's
// quoted ETag, as S3 does. It answers 403 to a bad signature or an expired
// URL, 404 to an upload that does not exist (or no longer does), 400 to a
// part number out of range, and 413 to a body over the part size limit.
// Browsers may PUT from another origin: it answers CORS preflights and
// exposes the ETag header.
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
		h.Set("Access-Control-Allow-Headers", "Content-Type, Content-Length")
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
	expires := q.Get("expires")
	if !s.validSignature(uploadID, num, expires, q.Get("sig")) {
		http.Error(w, "signature does not match", http.StatusForbidden)
		return
	}
	if exp, err := strconv.ParseInt(expires, 10, 64); err != nil || time.Now().After(time.Unix(exp, 0)) {
		http.Error(w, "URL expired", http.StatusForbidden)
		return
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > MaxParts || strconv.Itoa(n) != num {
		http.Error(w, fmt.Sprintf("part number out of 1..%d", MaxParts), http.StatusBadRequest)
		return
	}
	if r.ContentLength > s.maxPart {
		http.Error(w, fmt.Sprintf("part larger than %d bytes", s.maxPart), http.StatusRequestEntityTooLarge)
		return
	}
	etag, err := s.putPart(r.Context(), uploadID, n, http.MaxBytesReader(w, r.Body, s.maxPart))
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		h.Set("ETag", `"`+etag+`"`)
		w.WriteHeader(http.StatusOK)
	case errors.Is(err, blob.ErrNotFound):
		http.Error(w, "no such upload", http.StatusNotFound)
	case errors.As(err, &tooLarge):
		http.Error(w, fmt.Sprintf("part larger than %d bytes", s.maxPart), http.StatusRequestEntityTooLarge)
	case r.Context().Err() != nil:
		// The client went away mid-body; there is no one to answer.
	default:
		slog.ErrorContext(r.Context(), "localblob: store part", "upload_id", uploadID, "part", n, "err", err)
		http.Error(w, "could not store the part", http.StatusInternalServerError)
	}
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
