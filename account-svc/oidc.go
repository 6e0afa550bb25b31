package accountsvc

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/video"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// Sign-in through the operator's OpenID provider: the authorization code
// flow with PKCE (S256) and a nonce. BeginOIDC hands the edge the URL to
// send the browser to and a state for a short-lived HttpOnly cookie; the
// state carries the random state sent to the provider, the nonce, the
// PKCE verifier and the redirect URL, signed with a key derived from the
// install's internal key, so that nobody can make one up and no process
// needs to remember a sign-in in flight. FinishOIDC checks the cookie's
// signature and age, that the provider sent back the same state, exchanges
// the code with the verifier, and verifies the ID token (signature,
// issuer, audience = our client id, expiry, nonce).
//
// Who the provider's account becomes:
//   - the user already linked to it (issuer and subject);
//   - else the local account with the same e-mail address, when the
//     provider says the address is verified: it is linked, since the
//     operator chose to trust this provider to verify addresses;
//   - else a new account, username from preferred_username, name or the
//     e-mail's local part, made unique with a number, and without a
//     password; its e-mail is kept only when verified. Unless sign-up is
//     closed: then the provider's word is not enough to make an account.
//     Invitations gate accounts made with a password here; people the
//     operator's own provider vouches for need none.
//
// The provider is discovered on first use and again after a failure (not
// more often than retryDiscovery), so the service starts, and passwords
// work, while the provider is down.

var (
	errNoOIDC       = status.Error(codes.FailedPrecondition, "no OpenID provider is configured")
	errOIDCState    = status.Error(codes.InvalidArgument, "the sign-in's state is missing, expired or does not match: start the sign-in again")
	errDisabled     = fmt.Errorf("this account is disabled: %w", video.ErrForbidden)
	errOIDCSignUp   = status.Error(codes.FailedPrecondition, "sign-up is closed: no account here is linked to this sign-in; ask an admin to make you one")
	errOIDCRejected = status.Error(codes.Unauthenticated, "the OpenID provider did not confirm the sign-in: start it again")
)

const (
	oidcStateLifetime = 10 * time.Minute
	discoveryTimeout  = 10 * time.Second
	retryDiscovery    = 2 * time.Second
	oidcHTTPTimeout   = 15 * time.Second
	maxRedirectURL    = 2048
	maxUsernameTries  = 100
)

// oidcClient is the provider and what is needed to talk to it.
type oidcClient struct {
	cfg  config.OIDC
	key  []byte
	http *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	failedAt time.Time
	failure  error
}

func newOIDCClient(cfg config.OIDC, key []byte) *oidcClient {
	return &oidcClient{cfg: cfg, key: key,
		http: &http.Client{Timeout: oidcHTTPTimeout, Transport: otelhttp.NewTransport(http.DefaultTransport)}}
}

// discover returns the provider, discovering it when that has not worked
// yet.
func (c *oidcClient) discover(ctx context.Context, now time.Time) (*oidc.Provider, *oidc.IDTokenVerifier, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, c.verifier, nil
	}
	if c.failure != nil && now.Sub(c.failedAt) < retryDiscovery {
		return nil, nil, c.failure
	}
	dctx, cancel := context.WithTimeout(oidc.ClientContext(context.WithoutCancel(ctx), c.http), discoveryTimeout)
	defer cancel()
	p, err := oidc.NewProvider(dctx, c.cfg.Issuer)
	if err != nil {
		slog.WarnContext(ctx, "OpenID provider discovery failed", "issuer", c.cfg.Issuer, "err", err)
		c.failure, c.failedAt = status.Error(codes.Unavailable, "the OpenID provider cannot be reached: try again later"), now
		return nil, nil, c.failure
	}
	c.provider = p
	c.verifier = p.VerifierContext(oidc.ClientContext(context.Background(), c.http), &oidc.Config{ClientID: c.cfg.ClientID})
	c.failure = nil
	return c.provider, c.verifier, nil
}

func (c *oidcClient) oauth2(p *oidc.Provider, redirect string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.cfg.ClientID,
		ClientSecret: string(c.cfg.ClientSecret),
		Endpoint:     p.Endpoint(),
		RedirectURL:  redirect,
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
	}
}

// oidcState is a sign-in in flight, kept in the browser's cookie.
type oidcState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Redirect string `json:"r"`
	Expires  int64  `json:"e"` // Unix seconds
}

func (c *oidcClient) mac(payload string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("oidc state\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// seal is st signed, as the cookie keeps it.
func (c *oidcClient) seal(st oidcState) (string, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + c.mac(payload), nil
}

// open is the state a cookie keeps, when its signature holds and it has
// not expired.
func (c *oidcClient) open(sealed string, now time.Time) (oidcState, error) {
	payload, sig, ok := strings.Cut(sealed, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(c.mac(payload))) {
		return oidcState{}, errOIDCState
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	var st oidcState
	if err == nil {
		err = json.Unmarshal(b, &st)
	}
	if err != nil || st.State == "" || now.Unix() > st.Expires {
		return oidcState{}, errOIDCState
	}
	return st, nil
}

func randomString() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// checkRedirect refuses a redirect URL that no browser could be sent back
// to; the provider checks it against the client's registered ones.
func checkRedirect(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(raw) > maxRedirectURL {
		return video.Invalid("redirect_url must be the edge's absolute http(s) callback URL")
	}
	return nil
}

// BeginOIDC starts a sign-in at the provider.
func (s *Service) BeginOIDC(ctx context.Context, req *pb.BeginOIDCRequest) (*pb.BeginOIDCResponse, error) {
	if s.oidc == nil {
		return nil, errNoOIDC
	}
	if err := checkRedirect(req.GetRedirectUrl()); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	now := s.now()
	p, _, err := s.oidc.discover(ctx, now)
	if err != nil {
		return nil, err
	}
	st := oidcState{Verifier: oauth2.GenerateVerifier(), Redirect: req.GetRedirectUrl(), Expires: now.Add(oidcStateLifetime).Unix()}
	if st.State, err = randomString(); err == nil {
		st.Nonce, err = randomString()
	}
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	sealed, err := s.oidc.seal(st)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	authURL := s.oidc.oauth2(p, st.Redirect).AuthCodeURL(st.State, oauth2.S256ChallengeOption(st.Verifier), oidc.Nonce(st.Nonce))
	return &pb.BeginOIDCResponse{AuthUrl: authURL, State: sealed}, nil
}

// FinishOIDC completes a sign-in at the provider and opens a session.
func (s *Service) FinishOIDC(ctx context.Context, req *pb.FinishOIDCRequest) (*pb.SignInResponse, error) {
	if s.oidc == nil {
		return nil, errNoOIDC
	}
	now := s.now()
	st, err := s.oidc.open(req.GetCookieState(), now)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal([]byte(req.GetState()), []byte(st.State)) || (req.GetRedirectUrl() != "" && req.GetRedirectUrl() != st.Redirect) {
		return nil, errOIDCState
	}
	if req.GetCode() == "" {
		return nil, status.Error(codes.InvalidArgument, "the provider's code is missing")
	}
	p, verifier, err := s.oidc.discover(ctx, now)
	if err != nil {
		return nil, err
	}
	who, err := s.oidc.identify(ctx, p, verifier, st, req.GetCode())
	if err != nil {
		s.signIns.WithLabelValues("oidc", "refused").Inc()
		return nil, err
	}
	u, err := s.oidcUser(ctx, who)
	if err == nil && u.Disabled {
		err = errDisabled
	}
	if err != nil {
		s.signIns.WithLabelValues("oidc", "refused").Inc()
		return nil, rpc.Error(ctx, err)
	}
	s.signIns.WithLabelValues("oidc", "ok").Inc()
	resp, err := s.openSession(ctx, u, req.GetClient())
	return resp, rpc.Error(ctx, err)
}

// oidcIdentity is who the provider says signed in.
type oidcIdentity struct {
	Issuer, Subject         string
	Email                   string
	EmailVerified           bool
	PreferredUsername, Name string
}

// oidcClaims are the claims read from an ID token or the userinfo
// endpoint.
type oidcClaims struct {
	Email             string   `json:"email"`
	EmailVerified     flexBool `json:"email_verified"`
	PreferredUsername string   `json:"preferred_username"`
	Name              string   `json:"name"`
}

// flexBool reads a JSON boolean, or one written as a string, as some
// providers send email_verified.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	if s == "null" || s == "" {
		*b = false
		return nil
	}
	v, err := strconv.ParseBool(s)
	*b = flexBool(v)
	return err
}

// identify exchanges the code and verifies the ID token. Claims the ID
// token lacks (many providers put the profile and e-mail only in the
// userinfo answer) are asked of the userinfo endpoint, whose subject must
// be the token's.
func (c *oidcClient) identify(ctx context.Context, p *oidc.Provider, verifier *oidc.IDTokenVerifier, st oidcState, code string) (oidcIdentity, error) {
	ctx = oidc.ClientContext(ctx, c.http)
	tok, err := c.oauth2(p, st.Redirect).Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			slog.InfoContext(ctx, "OpenID provider refused the code", "err", err)
			return oidcIdentity{}, errOIDCRejected
		}
		slog.WarnContext(ctx, "OpenID token exchange failed", "err", err)
		return oidcIdentity{}, status.Error(codes.Unavailable, "the OpenID provider cannot be reached: try again later")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		slog.WarnContext(ctx, "OpenID provider sent no ID token")
		return oidcIdentity{}, errOIDCRejected
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		slog.WarnContext(ctx, "OpenID ID token refused", "err", err)
		return oidcIdentity{}, errOIDCRejected
	}
	if !hmac.Equal([]byte(idt.Nonce), []byte(st.Nonce)) {
		slog.WarnContext(ctx, "OpenID ID token with another nonce")
		return oidcIdentity{}, errOIDCRejected
	}
	var cl oidcClaims
	if err := idt.Claims(&cl); err != nil {
		slog.WarnContext(ctx, "OpenID ID token claims unreadable", "err", err)
		return oidcIdentity{}, errOIDCRejected
	}
	if (cl.Email == "" || (cl.PreferredUsername == "" && cl.Name == "")) && p.UserInfoEndpoint() != "" {
		info, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		var more oidcClaims
		if err == nil && info.Subject == idt.Subject && info.Claims(&more) == nil {
			if cl.Email == "" {
				cl.Email, cl.EmailVerified = more.Email, more.EmailVerified
			}
			cl.PreferredUsername = orElse(cl.PreferredUsername, more.PreferredUsername)
			cl.Name = orElse(cl.Name, more.Name)
		} else if err != nil {
			slog.WarnContext(ctx, "OpenID userinfo failed; going on with the ID token's claims", "err", err)
		}
	}
	return oidcIdentity{Issuer: idt.Issuer, Subject: idt.Subject, Email: cl.Email, EmailVerified: bool(cl.EmailVerified),
		PreferredUsername: cl.PreferredUsername, Name: cl.Name}, nil
}

// orElse is a, or b when a is empty.
func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// oidcUser is the user who signs in as the provider's account, linked or
// made as the rules above say.
func (s *Service) oidcUser(ctx context.Context, who oidcIdentity) (account.User, error) {
	u, err := s.store.UserByIdentity(ctx, who.Issuer, who.Subject)
	if !errors.Is(err, video.ErrNotFound) {
		return u, err
	}
	email := ""
	if e, err := account.NormalizeEmail(who.Email); err == nil && who.EmailVerified {
		email = e
	}
	if email != "" {
		u, _, err := s.store.UserByLogin(ctx, email)
		switch {
		case err == nil && u.Email == email:
			return u, s.link(ctx, who, u)
		case err != nil && !errors.Is(err, video.ErrNotFound):
			return account.User{}, err
		}
	}
	if s.signUp == account.SignUpClosed {
		return account.User{}, errOIDCSignUp
	}
	u, err = s.createOIDCUser(ctx, who, email)
	if err != nil {
		return account.User{}, err
	}
	return u, s.link(ctx, who, u)
}

func (s *Service) link(ctx context.Context, who oidcIdentity, u account.User) error {
	if err := s.store.LinkIdentity(ctx, account.Identity{Issuer: who.Issuer, Subject: who.Subject, UserID: u.ID}); err != nil {
		return fmt.Errorf("link %s to user %s: %w", who.Subject, u.ID, err)
	}
	return nil
}

// createOIDCUser makes a user without a password for the provider's
// account, under the first free username made from its claims.
func (s *Service) createOIDCUser(ctx context.Context, who oidcIdentity, email string) (account.User, error) {
	base := usernameBase(who)
	for i := 1; i <= maxUsernameTries; i++ {
		name := withSuffix(base, i)
		if _, err := account.NormalizeUsername(name); err != nil {
			continue
		}
		if _, err := s.store.UserByName(ctx, name); !errors.Is(err, video.ErrNotFound) {
			if err != nil {
				return account.User{}, err
			}
			continue
		}
		u, err := s.store.CreateUser(ctx, account.User{ID: uuid.NewString(), Username: name, Email: email, Role: auth.RoleUser}, "")
		if !errors.Is(err, account.ErrTaken) {
			return u, err
		}
		// Taken between the look-up and the insert; or the e-mail was
		// taken, which another name cannot fix.
		if _, err := s.store.UserByName(ctx, name); errors.Is(err, video.ErrNotFound) {
			return account.User{}, taken(account.ErrTaken)
		}
	}
	return account.User{}, fmt.Errorf("no free username from %q after %d tries: %w", base, maxUsernameTries, account.ErrTaken)
}

// usernameBase is the username a provider's account asks for, made to
// follow the rules of usernames: preferred_username (its local part, if it
// is an address), else the name, else the e-mail's local part, else
// "user".
func usernameBase(who oidcIdentity) string {
	local, _, _ := strings.Cut(who.PreferredUsername, "@")
	mailLocal, _, _ := strings.Cut(who.Email, "@")
	for _, c := range []string{local, who.Name, mailLocal} {
		if b := slug(c); b != "" {
			return b
		}
	}
	return "user"
}

// slug lower-cases s and keeps what a username may hold, one dash for any
// run of anything else, starting and ending with a letter or digit.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			if !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
	}
	return trimName(b.String(), account.MaxUsernameRunes)
}

// trimName cuts name to n bytes and trims what may not end or start it.
func trimName(name string, n int) string {
	if len(name) > n {
		name = name[:n]
	}
	return strings.TrimFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
}

// withSuffix is the i-th try at a username from base: base itself, then
// base2, base3, ..., base cut so that the whole fits.
func withSuffix(base string, i int) string {
	if i == 1 {
		return base
	}
	suffix := strconv.Itoa(i)
	cut := trimName(base, account.MaxUsernameRunes-utf8.RuneCountInString(suffix))
	if cut == "" {
		cut = "user"
	}
	return cut + suffix
}
