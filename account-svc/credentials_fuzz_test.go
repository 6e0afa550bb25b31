package accountsvc

import (
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// change replaces s[at:cut] with insert, at and cut taken within s.
func change(s string, at, cut int, insert string) string {
	at = int(uint(at) % uint(len(s)+1))
	cut = at + int(uint(cut)%uint(len(s)-at+1))
	return s[:at] + insert + s[cut:]
}

// FuzzAuthenticate presents a real session secret and a real API token,
// each changed anywhere. The unchanged ones sign their user in; a changed
// one is refused as a bad credential, never taken for someone, and never
// makes the service fail.
func FuzzAuthenticate(f *testing.F) {
	p := platformtest.Process(f, platformtest.Embedded)
	db, err := p.Store(f.Context())
	if err != nil {
		f.Fatal(err)
	}
	svc, err := New(db, testConfig(), platformtest.Key, nil)
	if err != nil {
		f.Fatal(err)
	}
	u := storetest.NewUser(f, db, "fuzzer", auth.RoleUser)
	now := time.Now()
	session, sessionHash, err := auth.NewSecret(auth.SessionPrefix)
	if err != nil {
		f.Fatal(err)
	}
	if err := db.CreateSession(f.Context(), account.Session{ID: uuid.NewString(), UserID: u.ID, Hash: sessionHash,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
		f.Fatal(err)
	}
	token, tokenHash, err := auth.NewSecret(auth.TokenPrefix)
	if err != nil {
		f.Fatal(err)
	}
	if err := db.CreateToken(f.Context(), account.Token{ID: uuid.NewString(), UserID: u.ID, Name: "fuzz", Hash: tokenHash,
		Scopes: []auth.Scope{auth.ScopeRead}, CreatedAt: now}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, useToken bool, at, cut int, insert string) {
		secret := session
		if useToken {
			secret = token
		}
		changed := change(secret, at, cut, insert)
		if !utf8.ValidString(changed) {
			return // no protobuf string carries it; the edge refuses it (router.credential)
		}
		resp, err := svc.Authenticate(t.Context(), &pb.AuthenticateRequest{Secret: changed})
		switch {
		case changed == secret && (err != nil || resp.GetPrincipal().GetUserId() != u.ID):
			t.Fatalf("%q: %v, %v; want %s signed in", secret, resp, err, u.Username)
		case changed != secret && status.Code(err) != codes.Unauthenticated:
			t.Fatalf("%q, changed from %q: %v, %v; want it refused", changed, secret, resp, err)
		}
	})
}

// FuzzOIDCState seals any sign-in state into the cookie that carries it
// through the provider, and changes the cookie anywhere. The unchanged
// cookie opens to the state sealed; a changed one never opens.
func FuzzOIDCState(f *testing.F) {
	c := newOIDCClient(testConfig().OIDC, platformtest.Key.Derive("oidc state"))
	now := time.Now()
	f.Fuzz(func(t *testing.T, state, nonce, verifier, redirect string, at, cut int, insert string) {
		st := oidcState{State: state, Nonce: nonce, Verifier: verifier, Redirect: redirect, Expires: now.Add(time.Minute).Unix()}
		sealed, err := c.seal(st)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.open(sealed, now)
		valid := utf8.ValidString(state + nonce + verifier + redirect)
		switch {
		case state == "" && !errors.Is(err, errOIDCState):
			t.Fatalf("a state without a state opened: %+v, %v", got, err)
		case state != "" && err != nil:
			t.Fatalf("sealed %+v, opened %v", st, err)
		case state != "" && valid && got != st:
			t.Fatalf("sealed %+v, opened %+v", st, got)
		}
		if changed := change(sealed, at, cut, insert); changed != sealed {
			if got, err := c.open(changed, now); !errors.Is(err, errOIDCState) {
				t.Fatalf("%q, changed from %q, opened: %+v, %v", changed, sealed, got, err)
			}
		}
	})
}
