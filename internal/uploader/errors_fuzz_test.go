package uploader

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReadError reads any error answer, as a server or the storage behind
// a part URL may send it. The error keeps the status, waits only for a
// positive Retry-After, and says something short: at most 200 characters
// of a body that is neither the API's JSON nor S3's XML, cut between
// characters, never inside one.
func FuzzReadError(f *testing.F) {
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body string) {
		status = 400 + int(uint(status)%200)
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
		resp.Header.Set("Retry-After", retryAfter)
		err := readError(resp)
		e, ok := err.(*APIError)
		if !ok || e.Status != status || e.Error() == "" {
			t.Fatalf("read as %#v", err)
		}
		if secs, perr := strconv.Atoi(retryAfter); e.retryAfter < 0 || e.retryAfter > 0 && (perr != nil || secs <= 0) {
			t.Fatalf("Retry-After %q read as %v", retryAfter, e.retryAfter)
		}
		if utf8.ValidString(body) && !utf8.ValidString(e.Message) {
			t.Fatalf("body %q read as the message %q, which is not UTF-8", body, e.Message)
		}
		if cut, ok := strings.CutSuffix(e.Message, "…"); ok && strings.HasPrefix(strings.TrimSpace(body), cut) && utf8.RuneCountInString(cut) > 200 {
			t.Fatalf("body %q read as the message %q, longer than 200 characters", body, e.Message)
		}
	})
}
