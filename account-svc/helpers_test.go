package accountsvc

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// clock is the time a test's service sees; tests move it instead of
// sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testEnv is a service on one backend set with a clock of its own.
type testEnv struct {
	t     *testing.T
	db    store.Store
	svc   *Service
	clock *clock
}

func testConfig() config.Account {
	return config.Account{
		SignUp:     "open",
		SessionTTL: 24 * time.Hour,
		InviteTTL:  48 * time.Hour,
		Quotas:     config.Quotas{Storage: 5000, Daily: 1000},
	}
}

func newEnv(t *testing.T, p *platform.Process, cfg config.Account) *testEnv {
	t.Helper()
	db, err := p.Store(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, db: db, clock: &clock{t: time.Now().UTC()}}
	e.svc = e.service(cfg)
	return e
}

// service is another service on the same store and clock.
func (e *testEnv) service(cfg config.Account) *Service {
	e.t.Helper()
	svc, err := New(e.db, cfg, platformtest.Key, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	svc.now = e.clock.Now
	return svc
}

// person is someone signed in, with the secret of their session.
type person struct {
	user     *pb.User
	password string
	secret   string
	p        auth.Principal
}

func (pr person) ctx() context.Context { return as(pr.p) }

func as(p auth.Principal) context.Context { return auth.NewContext(context.Background(), p) }

// signUp makes a user through the open sign-up and signs them in.
func (e *testEnv) signUp(name string) person {
	e.t.Helper()
	pw := "password of " + name
	resp, err := e.svc.SignUp(context.Background(), &pb.SignUpRequest{Username: name, Email: name + "@example.com", Password: pw,
		Client: &pb.Client{Ip: "192.0.2.1", UserAgent: "test browser"}})
	if err != nil {
		e.t.Fatalf("sign up %s: %v", name, err)
	}
	return person{user: resp.GetUser(), password: pw, secret: resp.GetSessionToken(), p: e.principal(resp.GetSessionToken())}
}

// withRole makes a user with role through the store and signs them in.
func (e *testEnv) withRole(name string, role auth.Role) person {
	e.t.Helper()
	pw := "password of " + name
	u, hash, err := NewUser(name, name+"@example.com", pw, role)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.db.CreateUser(context.Background(), u, hash); err != nil {
		e.t.Fatal(err)
	}
	resp, err := e.svc.SignIn(context.Background(), &pb.SignInRequest{Login: name, Password: pw})
	if err != nil {
		e.t.Fatalf("sign in %s: %v", name, err)
	}
	return person{user: resp.GetUser(), password: pw, secret: resp.GetSessionToken(), p: e.principal(resp.GetSessionToken())}
}

// token makes an API token of pr and returns its principal.
func (e *testEnv) token(pr person, scopes ...string) (auth.Principal, string) {
	e.t.Helper()
	resp, err := e.svc.CreateToken(pr.ctx(), &pb.CreateTokenRequest{Name: "test token", Scopes: scopes})
	if err != nil {
		e.t.Fatalf("create token: %v", err)
	}
	return e.principal(resp.GetSecret()), resp.GetSecret()
}

// principal is what Authenticate makes of secret, as the edge reads it.
func (e *testEnv) principal(secret string) auth.Principal {
	e.t.Helper()
	resp, err := e.svc.Authenticate(context.Background(), &pb.AuthenticateRequest{Secret: secret})
	if err != nil {
		e.t.Fatalf("authenticate: %v", err)
	}
	return principalOf(resp.GetPrincipal())
}

func principalOf(p *pb.Principal) auth.Principal {
	out := auth.Principal{UserID: p.GetUserId(), Username: p.GetUsername(), Role: auth.Role(p.GetRole()), SessionID: p.GetSessionId()}
	for _, s := range p.GetScopes() {
		out.Scopes = append(out.Scopes, auth.Scope(s))
	}
	return out
}

// authenticates reports whether secret still signs someone in.
func (e *testEnv) authenticates(secret string) bool {
	e.t.Helper()
	_, err := e.svc.Authenticate(context.Background(), &pb.AuthenticateRequest{Secret: secret})
	if err != nil && status.Code(err) != codes.Unauthenticated {
		e.t.Fatalf("authenticate: %v", err)
	}
	return err == nil
}

// wantCode fails t unless err has code c and, when given, a message
// containing msg.
func wantCode(t *testing.T, what string, err error, c codes.Code, msg string) {
	t.Helper()
	if status.Code(err) != c || (msg != "" && !strings.Contains(status.Convert(err).Message(), msg)) {
		t.Errorf("%s: %v, want %s with %q", what, err, c, msg)
	}
}
