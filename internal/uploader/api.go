package uploader

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// APIError is an error answer from the API (a JSON {"error":{code,message}}
// body) or from the storage a part URL points at.
type APIError struct {
	Status  int    // HTTP status
	Code    string // e.g. "invalid_argument", or S3's "AccessDenied"
	Message string // the server's words
	// retryAfter is the server's Retry-After, when it gave one.
	retryAfter time.Duration
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Code != "" {
		return fmt.Sprintf("server: %s (%s, HTTP %d)", msg, e.Code, e.Status)
	}
	return fmt.Sprintf("server: %s (HTTP %d)", msg, e.Status)
}

// temporary reports whether the same request may succeed later.
func (e *APIError) temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests
}

// readError turns an error response into an *APIError, with the server's
// message when the body carries one: the API's JSON or S3's XML.
func readError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &APIError{Status: resp.StatusCode}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if secs, err := strconv.Atoi(s); err == nil && secs > 0 {
			e.retryAfter = time.Duration(secs) * time.Second
		}
	}
	var j struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	var x struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	switch {
	case json.Unmarshal(body, &j) == nil && j.Error.Message != "":
		e.Code, e.Message = j.Error.Code, j.Error.Message
	case xml.Unmarshal(body, &x) == nil && (x.Code != "" || x.Message != ""):
		e.Code, e.Message = x.Code, x.Message
	default:
		e.Message = strings.TrimSpace(string(body))
		if r := []rune(e.Message); len(r) > 200 {
			e.Message = string(r[:200]) + "…" // whole characters, not bytes
		}
	}
	return e
}

// retryable reports whether a failed request is worth sending again: the
// network failed, or the server says the failure is temporary. A cancelled
// upload is not retried.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.temporary()
	}
	return true
}

// backoff is how long to wait before retry number attempt (0-based):
// exponential, capped, with jitter so that parallel parts that failed
// together do not retry together. The server's Retry-After wins when it
// asks for longer.
func backoff(attempt int, err error) time.Duration {
	const (
		base    = 250 * time.Millisecond
		maxWait = 15 * time.Second
	)
	d := base << min(attempt, 10)
	d = min(d, maxWait)
	d = d/2 + randDuration(d/2)
	var ae *APIError
	if errors.As(err, &ae) && ae.retryAfter > d {
		d = min(ae.retryAfter, time.Minute)
	}
	return d
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// resolve makes a part URL absolute: object storage hands out absolute
// presigned URLs, the server's own storage may hand out paths.
func (c *client) resolve(u string) (string, error) {
	base, err := url.Parse(c.server)
	if err != nil {
		return "", fmt.Errorf("server URL %q: %w", c.server, err)
	}
	ref, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("part URL %q: %w", u, err)
	}
	return base.ResolveReference(ref).String(), nil
}

// client speaks the REST API.
type client struct {
	server string
	token  string
	http   *http.Client
	// retries bounds the retries of the idempotent calls (get, list, sign).
	retries int
}

type createRequest struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
	Privacy     string   `json:"privacy,omitempty"`
	Filename    string   `json:"filename"`
	ContentType string   `json:"content_type"`
	SizeBytes   int64    `json:"size_bytes"`
}

type session struct {
	VideoID   string    `json:"video_id"`
	SizeBytes int64     `json:"size_bytes"`
	PartSize  int64     `json:"part_size"`
	PartCount int32     `json:"part_count"`
	ExpiresAt time.Time `json:"expires_at"`
}

type signedPart struct {
	PartNumber int32     `json:"part_number"`
	URL        string    `json:"url"`
	ExpiresAt  time.Time `json:"expires_at"`
}

type storedPart struct {
	PartNumber int32  `json:"part_number"`
	SizeBytes  int64  `json:"size_bytes"`
	ETag       string `json:"etag"`
}

func (c *client) uploadPath(videoID string, rest string) string {
	return "/api/v1/uploads/" + url.PathEscape(videoID) + rest
}

// call sends one JSON request and decodes the JSON answer into out (when
// not nil).
func (c *client) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return readError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// callRetrying is call for requests that are safe to repeat.
func (c *client) callRetrying(ctx context.Context, method, path string, in, out any) error {
	for attempt := 0; ; attempt++ {
		err := c.call(ctx, method, path, in, out)
		if err == nil || !retryable(ctx, err) || attempt >= c.retries {
			return err
		}
		if err := sleep(ctx, backoff(attempt, err)); err != nil {
			return err
		}
	}
}

func (c *client) create(ctx context.Context, r createRequest) (*session, error) {
	// Not retried: a lost answer would leave a second video behind.
	var s session
	if err := c.call(ctx, http.MethodPost, "/api/v1/uploads", r, &s); err != nil {
		return nil, fmt.Errorf("create upload: %w", err)
	}
	if s.VideoID == "" || s.PartSize <= 0 || s.PartCount < 0 || (s.PartCount == 0) != (r.SizeBytes == 0) {
		return nil, fmt.Errorf("create upload: server answered an unusable session %+v", s)
	}
	return &s, nil
}

// resume finds the session the state file names and the parts it already
// holds. It returns a nil session when there is nothing to resume.
func (c *client) resume(ctx context.Context, st *state, size int64) (*session, map[int32]bool, error) {
	if st.VideoID == "" {
		return nil, nil, nil
	}
	var s session
	err := c.callRetrying(ctx, http.MethodGet, c.uploadPath(st.VideoID, ""), nil, &s)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 {
		// The session is gone (completed, aborted, expired): start afresh.
		st.remove()
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if s.SizeBytes != size || s.PartSize <= 0 {
		st.remove()
		return nil, nil, nil
	}
	var parts struct {
		Parts []storedPart `json:"parts"`
	}
	if err := c.callRetrying(ctx, http.MethodGet, c.uploadPath(st.VideoID, "/parts"), nil, &parts); err != nil {
		return nil, nil, fmt.Errorf("list parts: %w", err)
	}
	done := make(map[int32]bool, len(parts.Parts))
	for _, p := range parts.Parts {
		if p.PartNumber < 1 || p.PartNumber > s.PartCount {
			continue
		}
		// A part of the wrong size (cut short, or cut for another part
		// size) is sent again; the new one replaces it.
		if _, length := partRange(p.PartNumber, s.PartSize, size); p.SizeBytes == length {
			done[p.PartNumber] = true
		}
	}
	return &s, done, nil
}

func (c *client) sign(ctx context.Context, videoID string, parts []int32) ([]signedPart, error) {
	var out struct {
		Parts []signedPart `json:"parts"`
	}
	in := struct {
		PartNumbers []int32 `json:"part_numbers"`
	}{parts}
	if err := c.callRetrying(ctx, http.MethodPost, c.uploadPath(videoID, "/parts/sign"), in, &out); err != nil {
		return nil, fmt.Errorf("sign parts: %w", err)
	}
	return out.Parts, nil
}

func (c *client) complete(ctx context.Context, videoID string) error {
	if err := c.call(ctx, http.MethodPost, c.uploadPath(videoID, "/complete"), nil, nil); err != nil {
		return fmt.Errorf("complete upload: %w", err)
	}
	return nil
}
