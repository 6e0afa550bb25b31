package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cloudflix/cloudflix/internal/testenv"
)

// newUser signs a new user up through the API, as a browser does, and
// makes them an API token to read and upload with; it returns the token. A name
// already taken on the platform (a restarted one keeps its users) signs in
// instead.
func (pf *platform) newUser(t *testing.T, name string) string {
	t.Helper()
	password := "password of " + name
	cookie := pf.session(t, "/api/v1/auth/signup", `{"username":"`+name+`","email":"`+name+`@example.org","password":"`+password+`"}`)
	if cookie == nil {
		cookie = pf.session(t, "/api/v1/auth/signin", `{"login":"`+name+`","password":"`+password+`"}`)
	}
	if cookie == nil {
		t.Fatalf("neither sign-up nor sign-in worked for %s", name)
	}
	code, body := pf.browser(t, cookie, "POST", "/api/v1/me/tokens", `{"name":"e2e","scopes":["read","upload"]}`)
	if code != http.StatusCreated {
		t.Fatalf("make a token for %s: %d %s", name, code, body)
	}
	var created struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(body, &created); err != nil || created.Secret == "" {
		t.Fatalf("token answer %s: %v", body, err)
	}
	return created.Secret
}

// otherUser is newUser with a name of its own.
func (pf *platform) otherUser(t *testing.T) string {
	t.Helper()
	return pf.newUser(t, testenv.Name("u"))
}

// session posts body to a sign-up or sign-in path as the site's page would
// and returns the session cookie it set, or nil when it was refused.
func (pf *platform) session(t *testing.T, path, body string) *http.Cookie {
	t.Helper()
	code, _, resp := pf.browserResp(t, nil, "POST", path, body)
	if code >= 300 {
		return nil
	}
	for _, c := range resp.Cookies() {
		if c.Name == "cloudflix_session" {
			return c
		}
	}
	t.Fatalf("%s set no session cookie", path)
	return nil
}

// browser sends a request as the site's own page does: with the session
// cookie and the site's Origin.
func (pf *platform) browser(t *testing.T, cookie *http.Cookie, method, path, body string) (int, []byte) {
	t.Helper()
	code, b, _ := pf.browserResp(t, cookie, method, path, body)
	return code, b
}

func (pf *platform) browserResp(t *testing.T, cookie *http.Cookie, method, path, body string) (int, []byte, *http.Response) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, pf.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", pf.base)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := pf.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp
}
