package router

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/cloudflix/cloudflix/internal/auth"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// authEdge is an edge whose account service knows one session and one
// token, and whose GetUser answers with the principal it was called as.
func authEdge(t *testing.T, publicURL string) http.Handler {
	t.Helper()
	return edge(t, Options{
		PublicBaseURL: publicURL,
		Logger:        discardLogger(),
		Clients: Clients{Account: &accountClient{
			authenticate: func(in *pb.AuthenticateRequest) (*pb.AuthenticateResponse, error) {
				switch in.GetSecret() {
				case "cfs_good":
					return &pb.AuthenticateResponse{Principal: &pb.Principal{UserId: "u1", Username: "ada", Role: "user", SessionId: "s1"}}, nil
				case "cft_good":
					return &pb.AuthenticateResponse{Principal: &pb.Principal{UserId: "u1", Username: "ada", Role: "user", Scopes: []string{"read"}}}, nil
				}
				return nil, status.Error(codes.Unauthenticated, "the session or token is not valid")
			},
			getUser: func(ctx context.Context, _ *pb.GetUserRequest) (*pb.User, error) {
				p := auth.FromContext(ctx)
				if p.Anonymous() {
					return nil, status.Error(codes.Unauthenticated, "sign in first")
				}
				name := p.Username
				if p.Scopes != nil {
					name += "+token"
				}
				return &pb.User{Id: p.UserID, Username: name, Role: string(p.Role)}, nil
			},
		}},
	})
}

func request(method, target, body string, header ...string) *http.Request {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return r
}

func TestCredentialsBecomePrincipals(t *testing.T) {
	t.Parallel()
	h := authEdge(t, "")
	cases := []struct {
		name   string
		r      *http.Request
		status int
		user   string
		clears bool
	}{
		{"a session cookie", withCookie(request("GET", "/api/v1/me", ""), "cfs_good"), 200, "ada", false},
		{"a bearer token", request("GET", "/api/v1/me", "", "Authorization", "Bearer cft_good"), 200, "ada+token", false},
		{"nothing", request("GET", "/api/v1/me", ""), 401, "", false},
		{"a bad bearer token", request("GET", "/api/v1/me", "", "Authorization", "Bearer cft_bad"), 401, "", false},
		{"a malformed Authorization", request("GET", "/api/v1/me", "", "Authorization", "Basic YTpi"), 401, "", false},
		{"a stale cookie is dropped, not an error", withCookie(request("GET", "/api/v1/me", ""), "cfs_stale"), 401, "", true},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, c.r)
		if w.Code != c.status || (c.user != "" && !strings.Contains(w.Body.String(), `"username":"`+c.user+`"`)) {
			t.Errorf("%s: %d %s", c.name, w.Code, w.Body)
		}
		if cleared := strings.Contains(w.Header().Get("Set-Cookie"), "cloudflix_session=;"); cleared != c.clears {
			t.Errorf("%s: Set-Cookie %q", c.name, w.Header().Get("Set-Cookie"))
		}
	}
}

func withCookie(r *http.Request, secret string) *http.Request {
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: secret})
	return r
}

// Another site cannot make a signed-in browser change anything here, and
// a form cannot pass for JSON.
func TestCrossSiteRequestsAreRefused(t *testing.T) {
	t.Parallel()
	h := authEdge(t, "https://videos.example")
	host := func(r *http.Request) *http.Request { r.Host = "videos.example"; return r }
	const json = `{"name":"x","scopes":["read"]}`
	cases := []struct {
		name   string
		r      *http.Request
		status int
	}{
		{"a foreign Host", request("GET", "/api/v1/videos", ""), 421},
		{"cross-site by Sec-Fetch-Site", host(withCookie(request("POST", "/api/v1/auth/signout", "", "Sec-Fetch-Site", "cross-site"), "cfs_good")), 403},
		{"same-site is another site too", host(withCookie(request("POST", "/api/v1/auth/signout", "", "Sec-Fetch-Site", "same-site"), "cfs_good")), 403},
		{"a foreign Origin", host(withCookie(request("DELETE", "/api/v1/videos/v1", "", "Origin", "https://evil.example"), "cfs_good")), 403},
		{"a cookie without Origin or Sec-Fetch-Site", host(withCookie(request("DELETE", "/api/v1/videos/v1", ""), "cfs_good")), 403},
		{"a text/plain form", host(request("POST", "/api/v1/me/tokens", json, "Content-Type", "text/plain", "Authorization", "Bearer cft_good")), 415},
		{"a form without a type", host(request("POST", "/api/v1/auth/signin", json, "Origin", "https://videos.example")), 415},
		{"a cross-site sign-in (login CSRF)", host(request("POST", "/api/v1/auth/signin", json, "Content-Type", "application/json", "Origin", "https://evil.example")), 403},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, c.r)
		if w.Code != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, w.Code, w.Body, c.status)
		}
	}
	// The site's own pages and programs with a token pass the guard (and
	// reach the service, which answers for itself).
	for name, r := range map[string]*http.Request{
		"same-origin":            host(withCookie(request("GET", "/api/v1/me", "", "Sec-Fetch-Site", "same-origin"), "cfs_good")),
		"the site's Origin":      host(withCookie(request("GET", "/api/v1/me", "", "Origin", "https://videos.example"), "cfs_good")),
		"a token without Origin": host(request("GET", "/api/v1/me", "", "Authorization", "Bearer cft_good")),
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Errorf("%s: %d %s", name, w.Code, w.Body)
		}
	}
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	proxies, err := parseProxies([]string{"10.0.0.0/8", "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		peer, xff, want string
	}{
		{"203.0.113.5:4000", "", "203.0.113.5"},
		{"203.0.113.5:4000", "198.51.100.1", "203.0.113.5"},                   // not a proxy: its header is anyone's
		{"10.1.2.3:4000", "198.51.100.1", "198.51.100.1"},                     // the ingress names the client
		{"10.1.2.3:4000", "6.6.6.6, 198.51.100.1, 192.0.2.7", "198.51.100.1"}, // the left part is the client's own writing
		{"10.1.2.3:4000", "junk", "10.1.2.3"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := proxies.clientIP(r); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %s, want %s", c.peer, c.xff, got, c.want)
		}
	}
	if _, err := parseProxies([]string{"not-an-address"}); err == nil {
		t.Error("a bad trusted proxy was accepted")
	}
}

func TestRetryInfoBecomesRetryAfter(t *testing.T) {
	t.Parallel()
	st, err := status.New(codes.ResourceExhausted, "too many failed sign-ins; try again in 8 seconds").
		WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(7500 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	h := edge(t, Options{Logger: discardLogger(), Clients: Clients{Account: &accountClient{
		signIn: func(*pb.SignInRequest) (*pb.SignInResponse, error) { return nil, st.Err() },
	}}})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, request("POST", "/api/v1/auth/signin", `{"login":"ada","password":"x"}`, "Content-Type", "application/json"))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "8" {
		t.Fatalf("a throttled sign-in: %d, Retry-After %q; want 429 and 8", w.Code, w.Header().Get("Retry-After"))
	}
}
