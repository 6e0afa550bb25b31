package accountsvc

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// The edge's callback, registered with the test provider; no request ever
// reaches it, since the test's browser stops at the redirect to it.
const (
	callbackURL      = "http://cloudflix.test/auth/oidc/callback"
	opClientID       = "cloudflix"
	opClientSecret   = "test client secret"
	opPassword       = "provider password"
	opServiceUserKey = "service"
)

// opUsers are the accounts at the test provider.
type opUsers map[string]*storage.User

func (u opUsers) GetUserByID(id string) *storage.User { return u[id] }

func (u opUsers) GetUserByUsername(name string) *storage.User {
	for _, user := range u {
		if user.Username == name {
			return user
		}
	}
	return nil
}

func (u opUsers) ExampleClientID() string { return opServiceUserKey }

// testOP is a real OpenID provider (zitadel's, with the in-memory storage
// of its example) on a local HTTP server; while down it answers 503.
type testOP struct {
	URL  string
	down atomic.Bool
}

func startOP(t *testing.T, users opUsers) *testOP {
	t.Helper()
	op := &testOP{}
	srv := httptest.NewUnstartedServer(nil)
	op.URL = "http://" + srv.Listener.Addr().String()
	clients := map[string]*storage.Client{opClientID: storage.WebClient(opClientID, opClientSecret, callbackURL)}
	provider := exampleop.SetupServer(op.URL, storage.NewStorageWithClients(users, clients), nil, false)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if op.down.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		provider.ServeHTTP(w, r)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return op
}

func (op *testOP) config(signUp string) config.Account {
	cfg := testConfig()
	cfg.SignUp = signUp
	cfg.OIDC = config.OIDC{Issuer: op.URL, ClientID: opClientID, ClientSecret: opClientSecret, Name: "Test IdP"}
	return cfg
}

// signInAt does what a browser does with BeginOIDC's URL: it signs in at
// the provider's login page as username, and returns where the provider
// sends it back to, which holds the code and the state.
func signInAt(t *testing.T, authURL, username string) url.Values {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), callbackURL) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Request.URL.Query().Get("authRequestID")
	if resp.StatusCode != http.StatusOK || id == "" {
		t.Fatalf("the provider's login page: %s at %s", resp.Status, resp.Request.URL)
	}
	loginURL := *resp.Request.URL
	loginURL.RawQuery = ""
	resp, err = browser.PostForm(loginURL.String(), url.Values{"id": {id}, "username": {username}, "password": {opPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(back.String(), callbackURL) {
		t.Fatalf("the provider answered %s, Location %q, not a redirect to the callback", resp.Status, resp.Header.Get("Location"))
	}
	return back.Query()
}

// oidcSignIn runs the whole flow for username at the provider.
func oidcSignIn(t *testing.T, svc *Service, username string) (*pb.SignInResponse, error) {
	t.Helper()
	ctx := context.Background()
	begin, err := svc.BeginOIDC(ctx, &pb.BeginOIDCRequest{RedirectUrl: callbackURL})
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	back := signInAt(t, begin.GetAuthUrl(), username)
	return svc.FinishOIDC(ctx, &pb.FinishOIDCRequest{Code: back.Get("code"), State: back.Get("state"), CookieState: begin.GetState(),
		RedirectUrl: callbackURL, Client: &pb.Client{Ip: "192.0.2.44", UserAgent: "browser"}})
}

func opUser(id, username, email string, verified bool) *storage.User {
	return &storage.User{ID: id, Username: username, Password: opPassword, FirstName: "Test", LastName: strings.ToUpper(id), Email: email, EmailVerified: verified}
}

func TestOIDCSignIn(t *testing.T) {
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		op := startOP(t, opUsers{
			"sub-alice": opUser("sub-alice", "Alice.Smith@idp.example", "alice.smith@example.com", true),
			"sub-bob":   opUser("sub-bob", "robert", "BOB@example.com", true),
			"sub-carol": opUser("sub-carol", "carol", "carol@example.com", false),
			"sub-dan":   opUser("sub-dan", "dan", "dan@example.com", true),
		})
		e := newEnv(t, p, op.config("open"))
		closed := e.service(op.config("closed"))

		opts, err := e.svc.GetSignInOptions(context.Background(), &pb.GetSignInOptionsRequest{})
		if err != nil || opts.GetOidcProvider() != "Test IdP" || opts.GetSignUp() != "open" {
			t.Errorf("sign-in options %v %v", opts, err)
		}

		// A new account: its username from preferred_username's local
		// part, its verified e-mail, no password.
		first, err := oidcSignIn(t, e.svc, "Alice.Smith@idp.example")
		if err != nil {
			t.Fatalf("first sign-in: %v", err)
		}
		u := first.GetUser()
		if u.GetUsername() != "alice.smith" || u.GetEmail() != "alice.smith@example.com" || u.GetRole() != "user" || first.GetSession().GetIp() != "192.0.2.44" {
			t.Errorf("new account %v", first)
		}
		if got := e.principal(first.GetSessionToken()); got.UserID != u.GetId() || got.SessionID == "" {
			t.Errorf("session of the new account: %+v", got)
		}
		_, err = e.svc.SignIn(context.Background(), &pb.SignInRequest{Login: "alice.smith", Password: ""})
		wantCode(t, "password sign-in without a password", err, codes.InvalidArgument, "")
		// Again, and with sign-up closed: the linked account.
		for _, svc := range []*Service{e.svc, closed} {
			again, err := oidcSignIn(t, svc, "Alice.Smith@idp.example")
			if err != nil || again.GetUser().GetId() != u.GetId() || again.GetSessionToken() == first.GetSessionToken() {
				t.Errorf("second sign-in: %v %v", again, err)
			}
		}

		// A local account with the verified e-mail is linked, and stays
		// linked.
		bob := e.signUp("bob")
		for range 2 {
			resp, err := oidcSignIn(t, e.svc, "robert")
			if err != nil || resp.GetUser().GetId() != bob.user.GetId() {
				t.Errorf("bob through the provider: %v %v", resp, err)
			}
		}

		// An unverified e-mail links nothing and is not kept; the taken
		// username gets a number.
		carol := e.signUp("carol")
		resp, err := oidcSignIn(t, e.svc, "carol")
		if err != nil || resp.GetUser().GetId() == carol.user.GetId() || resp.GetUser().GetUsername() != "carol2" || resp.GetUser().GetEmail() != "" {
			t.Errorf("carol through the provider: %v %v", resp, err)
		}

		// Sign-up closed: nobody new.
		_, err = oidcSignIn(t, closed, "dan")
		wantCode(t, "new account with sign-up closed", err, codes.FailedPrecondition, "sign-up is closed")

		// A disabled account is refused.
		admin := e.withRole("boss", auth.RoleAdmin)
		if _, err := e.svc.UpdateUser(admin.ctx(), &pb.UpdateUserRequest{Id: bob.user.GetId(), Disabled: proto.Bool(true)}); err != nil {
			t.Fatal(err)
		}
		_, err = oidcSignIn(t, e.svc, "robert")
		wantCode(t, "disabled", err, codes.PermissionDenied, "disabled")
	})
}

// The state, nonce and PKCE verifier are each checked: a tampered, stale or
// mismatched cookie, a replayed code, another nonce or another verifier is
// refused.
func TestOIDCRefusesForgedOrReplayedSignIns(t *testing.T) {
	op := startOP(t, opUsers{"sub-eve": opUser("sub-eve", "eve", "eve@example.com", true)})
	e := newEnv(t, platformtest.Process(t, platformtest.Embedded), op.config("open"))
	ctx := context.Background()

	begin, err := e.svc.BeginOIDC(ctx, &pb.BeginOIDCRequest{RedirectUrl: callbackURL})
	if err != nil {
		t.Fatal(err)
	}
	authURL, err := url.Parse(begin.GetAuthUrl())
	if err != nil {
		t.Fatal(err)
	}
	q := authURL.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" ||
		q.Get("client_id") != opClientID || q.Get("redirect_uri") != callbackURL || !strings.Contains(q.Get("scope"), "openid") {
		t.Errorf("auth URL %s", authURL)
	}
	if strings.Contains(begin.GetAuthUrl(), q.Get("state")+".") || strings.Contains(begin.GetState(), q.Get("code_challenge")) {
		t.Error("the cookie's state is sent to the provider, or the challenge kept in the cookie")
	}
	st, err := e.svc.oidc.open(begin.GetState(), e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	finish := func(code, state, cookie string) error {
		_, err := e.svc.FinishOIDC(ctx, &pb.FinishOIDCRequest{Code: code, State: state, CookieState: cookie, RedirectUrl: callbackURL})
		return err
	}
	reseal := func(change func(*oidcState)) string {
		s := st
		change(&s)
		sealed, err := e.svc.oidc.seal(s)
		if err != nil {
			t.Fatal(err)
		}
		return sealed
	}
	payload, sig, _ := strings.Cut(begin.GetState(), ".")
	tampered, _, _ := strings.Cut(reseal(func(s *oidcState) { s.Expires += 3600 }), ".")
	forged, err := (&oidcClient{key: []byte("another install's key, 32 bytes+")}).seal(st)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ state, cookie string }{
		"no cookie":            {st.State, ""},
		"another state":        {"another", begin.GetState()},
		"no state":             {"", begin.GetState()},
		"a tampered cookie":    {st.State, tampered + "." + sig},
		"a bad signature":      {st.State, payload + "." + strings.Repeat("A", len(sig))},
		"another install's":    {st.State, forged},
		"a cookie of no parts": {st.State, "garbage"},
	} {
		wantCode(t, name, finish("any code", c.state, c.cookie), codes.InvalidArgument, "start the sign-in again")
	}
	_, err = e.svc.FinishOIDC(ctx, &pb.FinishOIDCRequest{Code: "c", State: st.State, CookieState: begin.GetState(), RedirectUrl: "http://elsewhere.test/cb"})
	wantCode(t, "another redirect URL", err, codes.InvalidArgument, "start the sign-in again")

	// The provider's code with another verifier, then another nonce:
	// refused, and the code is spent.
	back := signInAt(t, begin.GetAuthUrl(), "eve")
	if back.Get("state") != st.State {
		t.Fatalf("the provider sent back state %q", back.Get("state"))
	}
	wantCode(t, "another PKCE verifier", finish(back.Get("code"), st.State, reseal(func(s *oidcState) { s.Verifier = strings.Repeat("v", 43) })), codes.Unauthenticated, "did not confirm")

	begin2, err := e.svc.BeginOIDC(ctx, &pb.BeginOIDCRequest{RedirectUrl: callbackURL})
	if err != nil {
		t.Fatal(err)
	}
	st2, _ := e.svc.oidc.open(begin2.GetState(), e.clock.Now())
	back2 := signInAt(t, begin2.GetAuthUrl(), "eve")
	st2.Nonce = "another nonce"
	otherNonce, _ := e.svc.oidc.seal(st2)
	wantCode(t, "another nonce", finish(back2.Get("code"), st2.State, otherNonce), codes.Unauthenticated, "did not confirm")

	// A good sign-in, then its code again.
	begin3, err := e.svc.BeginOIDC(ctx, &pb.BeginOIDCRequest{RedirectUrl: callbackURL})
	if err != nil {
		t.Fatal(err)
	}
	back3 := signInAt(t, begin3.GetAuthUrl(), "eve")
	if err := finish(back3.Get("code"), back3.Get("state"), begin3.GetState()); err != nil {
		t.Fatalf("a good sign-in: %v", err)
	}
	wantCode(t, "a replayed code", finish(back3.Get("code"), back3.Get("state"), begin3.GetState()), codes.Unauthenticated, "did not confirm")

	// A cookie outlives its ten minutes in no case.
	begin4, err := e.svc.BeginOIDC(ctx, &pb.BeginOIDCRequest{RedirectUrl: callbackURL})
	if err != nil {
		t.Fatal(err)
	}
	back4 := signInAt(t, begin4.GetAuthUrl(), "eve")
	e.clock.Advance(oidcStateLifetime + time.Second)
	wantCode(t, "a stale cookie", finish(back4.Get("code"), back4.Get("state"), begin4.GetState()), codes.InvalidArgument, "start the sign-in again")

	_, err = e.svc.BeginOIDC(ctx, &pb.BeginOIDCRequest{RedirectUrl: "/relative"})
	wantCode(t, "a relative redirect URL", err, codes.InvalidArgument, "redirect_url")
}

// The service starts while the provider is down, and finds it once it is
// back.
func TestOIDCDiscoveryIsRetried(t *testing.T) {
	op := startOP(t, opUsers{"sub-eve": opUser("sub-eve", "eve", "eve@example.com", true)})
	op.down.Store(true)
	e := newEnv(t, platformtest.Process(t, platformtest.Embedded), op.config("open"))
	ctx := context.Background()
	_, err := e.svc.BeginOIDC(ctx, &pb.BeginOIDCRequest{RedirectUrl: callbackURL})
	wantCode(t, "provider down", err, codes.Unavailable, "cannot be reached")
	if _, err := e.svc.GetSignInOptions(ctx, &pb.GetSignInOptionsRequest{}); err != nil {
		t.Errorf("sign-in options while the provider is down: %v", err)
	}
	op.down.Store(false)
	e.clock.Advance(retryDiscovery)
	if resp, err := oidcSignIn(t, e.svc, "eve"); err != nil || resp.GetUser().GetUsername() != "eve" {
		t.Errorf("after the provider is back: %v %v", resp, err)
	}
}

func TestOIDCWithoutAProvider(t *testing.T) {
	e := newEnv(t, platformtest.Process(t, platformtest.Embedded), testConfig())
	ctx := context.Background()
	_, err := e.svc.BeginOIDC(ctx, &pb.BeginOIDCRequest{RedirectUrl: callbackURL})
	wantCode(t, "begin", err, codes.FailedPrecondition, "no OpenID provider is configured")
	_, err = e.svc.FinishOIDC(ctx, &pb.FinishOIDCRequest{Code: "c", State: "s", CookieState: "s"})
	wantCode(t, "finish", err, codes.FailedPrecondition, "no OpenID provider is configured")
	if opts, _ := e.svc.GetSignInOptions(ctx, &pb.GetSignInOptionsRequest{}); opts.GetOidcProvider() != "" {
		t.Errorf("options name a provider: %v", opts)
	}
}

func TestUsernameFromClaims(t *testing.T) {
	cases := []struct {
		who  oidcIdentity
		want string
	}{
		{oidcIdentity{PreferredUsername: "Jane.Doe@corp.example"}, "jane.doe"},
		{oidcIdentity{Name: "Zoë  O'Brien"}, "zo-o-brien"},
		{oidcIdentity{PreferredUsername: "--", Email: "j_smith@example.com"}, "j_smith"},
		{oidcIdentity{Name: "李"}, "user"},
		{oidcIdentity{PreferredUsername: strings.Repeat("a", 40)}, strings.Repeat("a", 30)},
	}
	for _, c := range cases {
		if got := usernameBase(c.who); got != c.want {
			t.Errorf("usernameBase(%+v) = %q, want %q", c.who, got, c.want)
		}
	}
	if got := withSuffix(strings.Repeat("a", 30), 12); got != strings.Repeat("a", 28)+"12" {
		t.Errorf("withSuffix = %q", got)
	}
	if got := withSuffix("ab", 2); got != "ab2" {
		t.Errorf("withSuffix = %q", got)
	}
}
