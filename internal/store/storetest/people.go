package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
)

// NewUser adds a user named username with role to s, for tests of what
// users may do.
func NewUser(t testing.TB, s Store, username string, role auth.Role) account.User {
	t.Helper()
	u, err := s.CreateUser(t.Context(), account.User{
		ID: uuid.NewString(), Username: username, Email: username + "@example.org", Role: role, CreatedAt: time.Now(),
	}, "")
	if err != nil {
		t.Fatalf("storetest: create user %s: %v", username, err)
	}
	return u
}

// SignedIn is ctx acting for u through a browser session: every right of
// theirs.
func SignedIn(ctx context.Context, u account.User) context.Context {
	return auth.NewContext(ctx, auth.Principal{UserID: u.ID, Username: u.Username, Role: u.Role, SessionID: "test-session"})
}
