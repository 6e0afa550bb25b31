package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

// wantUser checks that got is want as stored.
func wantUser(t *testing.T, what string, got, want account.User) {
	t.Helper()
	if got.ID != want.ID || got.Username != want.Username || got.Email != want.Email || got.Role != want.Role ||
		got.Disabled != want.Disabled || got.StorageQuota != want.StorageQuota || got.DailyQuota != want.DailyQuota ||
		!got.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("%s = %+v, want %+v", what, got, want)
	}
}

func wantInvalid(t *testing.T, what string, err error) {
	t.Helper()
	if !video.IsInvalid(err) {
		t.Fatalf("%s: got error %v, want an invalid-input error", what, err)
	}
}

// usernames lists the store's users' names, a page of 100.
func usernames(t *testing.T, s Store) []string {
	t.Helper()
	users, err := s.Users(ctxFor(t), 100, "")
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.Username)
	}
	return names
}

func testCreateUser(t *testing.T, s Store) {
	ctx := ctxFor(t)
	before := time.Now().Add(-time.Second)
	a, err := s.CreateUser(ctx, account.User{Username: "Alice", Email: "Alice@Example.COM", Role: auth.RoleModerator,
		StorageQuota: 5 << 30, DailyQuota: account.Unlimited}, "hash-a")
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	// Names are kept lower-cased, as the account rules make them.
	if !store.ValidID(a.ID) || a.Username != "alice" || a.Email != "alice@example.com" || a.Role != auth.RoleModerator ||
		a.Disabled || a.StorageQuota != 5<<30 || a.DailyQuota != account.Unlimited ||
		a.CreatedAt.Before(before) || a.CreatedAt.After(time.Now().Add(time.Second)) {
		t.Fatalf("CreateUser returned %+v", a)
	}
	got, err := s.User(ctx, a.ID)
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	wantUser(t, "User", got, a)
	got, err = s.UserByName(ctx, "ALICE")
	if err != nil {
		t.Fatalf("UserByName: %v", err)
	}
	wantUser(t, "UserByName", got, a)
	for _, login := range []string{"alice", "aLiCe", "alice@example.com", "ALICE@example.COM"} {
		got, hash, err := s.UserByLogin(ctx, login)
		if err != nil || hash != "hash-a" {
			t.Fatalf("UserByLogin(%q) = %+v, %q, %v", login, got, hash, err)
		}
		wantUser(t, fmt.Sprintf("UserByLogin(%q)", login), got, a)
	}

	// A given id and creation time are kept; the role defaults to user.
	id, at := uuid.NewString(), time.Date(2024, 5, 17, 10, 30, 0, 123456000, time.UTC)
	b, err := s.CreateUser(ctx, account.User{ID: id, Username: "bob", CreatedAt: at}, "")
	if err != nil || b.ID != id || !b.CreatedAt.Equal(at) || b.Role != auth.RoleUser || b.Email != "" {
		t.Fatalf("CreateUser(bob) = %+v, %v", b, err)
	}
	got, err = s.User(ctx, id)
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	wantUser(t, "User(bob)", got, b)

	// Accounts of an OpenID provider have no e-mail and no password; any
	// number of them may lack an e-mail, and an empty login finds none.
	if _, err := s.CreateUser(ctx, account.User{Username: "carol"}, ""); err != nil {
		t.Fatalf("CreateUser(carol) without an e-mail: %v", err)
	}
	if _, hash, err := s.UserByLogin(ctx, "carol"); err != nil || hash != "" {
		t.Fatalf("UserByLogin(carol) = %q, %v; want no password", hash, err)
	}
	_, _, err = s.UserByLogin(ctx, "")
	wantErr(t, `UserByLogin("")`, err, video.ErrNotFound)

	for _, bad := range []account.User{
		{Username: ""},
		{Username: "dave", Role: "root"},
		{Username: "erin", StorageQuota: -2},
		{Username: "fay", DailyQuota: -7},
		{ID: "not-a-uuid", Username: "gus"},
		{ID: id, Username: "bob2"}, // bob's id
	} {
		_, err := s.CreateUser(ctx, bad, "")
		wantInvalid(t, fmt.Sprintf("CreateUser(%+v)", bad), err)
	}
	if got := usernames(t, s); !slices.Equal(got, []string{"alice", "bob", "carol"}) {
		t.Fatalf("users after refused creations = %q", got)
	}
}

func testUsernameAndEmailUnique(t *testing.T, s Store) {
	ctx := ctxFor(t)
	NewUser(t, s, "alice", auth.RoleUser)
	for _, u := range []account.User{
		{Username: "ALICE"},
		{Username: "Alice", Email: "other@example.com"},
		{Username: "alicia", Email: "alice@example.org"},
		{Username: "alicia", Email: "ALICE@EXAMPLE.ORG"},
	} {
		_, err := s.CreateUser(ctx, u, "x")
		wantErr(t, fmt.Sprintf("CreateUser(%s, %s)", u.Username, u.Email), err, account.ErrTaken)
	}
	// Beyond ASCII too.
	if _, err := s.CreateUser(ctx, account.User{Username: "zoe", Email: "Zoë@example.com"}, ""); err != nil {
		t.Fatalf("CreateUser(zoe): %v", err)
	}
	_, err := s.CreateUser(ctx, account.User{Username: "zoe2", Email: "ZOË@example.com"}, "")
	wantErr(t, "CreateUser with ZOË@example.com", err, account.ErrTaken)
	if got := usernames(t, s); !slices.Equal(got, []string{"alice", "zoe"}) {
		t.Fatalf("users after refused duplicates = %q", got)
	}
	if _, err := s.UserByName(ctx, "alicia"); err == nil {
		t.Fatal("a refused user was created")
	}
}

func testUsersPaging(t *testing.T, s Store) {
	ctx := ctxFor(t)
	for _, name := range []string{"carol", "alice", "erin", "bob", "dave"} {
		NewUser(t, s, name, auth.RoleUser)
	}
	var pages [][]string
	after := ""
	for range 5 {
		users, err := s.Users(ctx, 2, after)
		if err != nil {
			t.Fatalf("Users: %v", err)
		}
		if len(users) == 0 {
			break
		}
		var page []string
		for _, u := range users {
			page = append(page, u.Username)
		}
		pages = append(pages, page)
		after = users[len(users)-1].Username
	}
	if fmt.Sprint(pages) != "[[alice bob] [carol dave] [erin]]" {
		t.Fatalf("pages of users = %v", pages)
	}
	if users, err := s.Users(ctx, 10, "CAROL"); err != nil || len(users) != 2 || users[0].Username != "dave" {
		t.Fatalf("Users after CAROL = %v, %v", users, err)
	}
	if users, err := s.Users(ctx, 0, ""); err != nil || len(users) != 0 {
		t.Fatalf("Users(0) = %v, %v", users, err)
	}
}

func testUnknownUsers(t *testing.T, s Store) {
	ctx := ctxFor(t)
	soon := time.Now().Add(time.Hour)
	for _, id := range []string{uuid.NewString(), "not-a-uuid", "", "6F9619FF-8B86-D011-B42D-00CF4FC964FF"} {
		what := func(method string) string { return fmt.Sprintf("%s(%q)", method, id) }
		_, err := s.User(ctx, id)
		wantErr(t, what("User"), err, video.ErrNotFound)
		_, err = s.UpdateUser(ctx, id, account.Change{})
		wantErr(t, what("UpdateUser"), err, video.ErrNotFound)
		wantErr(t, what("SetPassword"), s.SetPassword(ctx, id, "h", ""), video.ErrNotFound)
		wantErr(t, what("DeleteSession"), s.DeleteSession(ctx, id, uuid.NewString()), video.ErrNotFound)
		wantErr(t, what("DeleteToken"), s.DeleteToken(ctx, id, uuid.NewString()), video.ErrNotFound)
		wantErr(t, what("CreateSession"), s.CreateSession(ctx, account.Session{UserID: id, Hash: "h-" + id, ExpiresAt: soon}), video.ErrNotFound)
		wantErr(t, what("CreateToken"), s.CreateToken(ctx, account.Token{UserID: id, Name: "t", Hash: "t-" + id}), video.ErrNotFound)
		wantErr(t, what("LinkIdentity"), s.LinkIdentity(ctx, account.Identity{Issuer: "https://id.example.com", Subject: "1", UserID: id}), video.ErrNotFound)
		if id != "" { // an invitation by nobody is the operator's
			wantErr(t, what("CreateInvite"), s.CreateInvite(ctx, account.Invite{Hash: "i-" + id, CreatedBy: id, ExpiresAt: soon}), video.ErrNotFound)
		}
		if ss, err := s.Sessions(ctx, id); err != nil || len(ss) != 0 {
			t.Fatalf("%s = %v, %v", what("Sessions"), ss, err)
		}
		if ts, err := s.Tokens(ctx, id); err != nil || len(ts) != 0 {
			t.Fatalf("%s = %v, %v", what("Tokens"), ts, err)
		}
		if vs, err := s.ChannelVideos(ctx, id, true, 10, video.ListPosition{}); err != nil || len(vs) != 0 {
			t.Fatalf("%s = %v, %v", what("ChannelVideos"), vs, err)
		}
		if stored, uploaded, err := s.UploadUsage(ctx, id, time.Time{}); err != nil || stored != 0 || uploaded != 0 {
			t.Fatalf("%s = %d, %d, %v", what("UploadUsage"), stored, uploaded, err)
		}
	}
	_, err := s.UserByName(ctx, "nobody")
	wantErr(t, "UserByName(nobody)", err, video.ErrNotFound)
	_, _, err = s.UserByLogin(ctx, "nobody@example.com")
	wantErr(t, "UserByLogin(nobody@example.com)", err, video.ErrNotFound)
	_, err = s.UserByIdentity(ctx, "https://id.example.com", "1")
	wantErr(t, "UserByIdentity", err, video.ErrNotFound)
	_, _, err = s.SessionByHash(ctx, "no-such-hash", time.Now())
	wantErr(t, "SessionByHash", err, video.ErrNotFound)
	_, _, err = s.TokenByHash(ctx, "no-such-hash", time.Now())
	wantErr(t, "TokenByHash", err, video.ErrNotFound)
	if got := usernames(t, s); len(got) != 0 {
		t.Fatalf("users = %q, want none", got)
	}
}

func testUpdateUser(t *testing.T, s Store) {
	ctx := ctxFor(t)
	u := NewUser(t, s, "alice", auth.RoleUser)
	other := NewUser(t, s, "bob", auth.RoleUser)
	mod, yes, quota, unlimited := auth.RoleModerator, true, int64(1<<30), account.Unlimited

	want := u
	want.Role = mod
	got, err := s.UpdateUser(ctx, u.ID, account.Change{Role: &mod})
	if err != nil {
		t.Fatalf("UpdateUser(role): %v", err)
	}
	wantUser(t, "UpdateUser(role)", got, want)
	want.Disabled, want.StorageQuota, want.DailyQuota = true, quota, unlimited
	got, err = s.UpdateUser(ctx, u.ID, account.Change{Disabled: &yes, StorageQuota: &quota, DailyQuota: &unlimited})
	if err != nil {
		t.Fatalf("UpdateUser(disabled, quotas): %v", err)
	}
	wantUser(t, "UpdateUser(disabled, quotas)", got, want)
	got, err = s.UpdateUser(ctx, u.ID, account.Change{})
	if err != nil {
		t.Fatalf("UpdateUser(nothing): %v", err)
	}
	wantUser(t, "UpdateUser(nothing)", got, want)

	root, below := auth.Role("root"), int64(-5)
	_, err = s.UpdateUser(ctx, u.ID, account.Change{Role: &root})
	wantInvalid(t, "UpdateUser to role root", err)
	_, err = s.UpdateUser(ctx, u.ID, account.Change{Role: &mod, StorageQuota: &below})
	wantInvalid(t, "UpdateUser to quota -5", err)
	got, err = s.User(ctx, u.ID)
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	wantUser(t, "User after refused changes", got, want)
	got, err = s.User(ctx, other.ID)
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	wantUser(t, "another user", got, other)
}

// newSession stores a session of user that expires in a day, seen at seen.
func newSession(t *testing.T, s Store, user, hash string, seen time.Time) account.Session {
	t.Helper()
	sess := account.Session{ID: uuid.NewString(), UserID: user, Hash: hash, UserAgent: "Firefox", IP: "192.0.2.1",
		CreatedAt: seen, LastSeenAt: seen, ExpiresAt: time.Now().Add(24 * time.Hour)}
	if err := s.CreateSession(ctxFor(t), sess); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return sess
}

func sessionIDs(t *testing.T, s Store, user string) []string {
	t.Helper()
	ss, err := s.Sessions(ctxFor(t), user)
	if err != nil {
		t.Fatalf("Sessions: %v", err)
	}
	out := make([]string, len(ss))
	for i, sess := range ss {
		out[i] = sess.ID
	}
	return out
}

func testSetPassword(t *testing.T, s Store) {
	ctx := ctxFor(t)
	u := NewUser(t, s, "alice", auth.RoleUser)
	other := NewUser(t, s, "bob", auth.RoleUser)
	now := time.Now()
	a := newSession(t, s, u.ID, "sess-a", now)
	b := newSession(t, s, u.ID, "sess-b", now)
	newSession(t, s, u.ID, "sess-c", now)
	theirs := newSession(t, s, other.ID, "sess-bob", now)
	tok := account.Token{UserID: u.ID, Name: "cli", Hash: "tok-a", Scopes: []auth.Scope{auth.ScopeRead}}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}

	if err := s.SetPassword(ctx, u.ID, "new-hash", b.ID); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	if _, hash, err := s.UserByLogin(ctx, "alice"); err != nil || hash != "new-hash" {
		t.Fatalf("UserByLogin after SetPassword = %q, %v", hash, err)
	}
	if got := sessionIDs(t, s, u.ID); !slices.Equal(got, []string{b.ID}) {
		t.Fatalf("sessions after SetPassword keeping %s = %v", b.ID, got)
	}
	_, _, err := s.SessionByHash(ctx, a.Hash, now)
	wantErr(t, "SessionByHash of an ended session", err, video.ErrNotFound)
	// Another user's sessions and the user's tokens are untouched.
	if got := sessionIDs(t, s, other.ID); !slices.Equal(got, []string{theirs.ID}) {
		t.Fatalf("another user's sessions = %v", got)
	}
	if _, _, err := s.TokenByHash(ctx, "tok-a", now); err != nil {
		t.Fatalf("TokenByHash after SetPassword: %v", err)
	}

	for _, keep := range []string{"", "not-a-uuid"} {
		newSession(t, s, u.ID, "sess-d"+keep, now)
		if err := s.SetPassword(ctx, u.ID, "newer-hash", keep); err != nil {
			t.Fatalf("SetPassword keeping %q: %v", keep, err)
		}
		if got := sessionIDs(t, s, u.ID); len(got) != 0 {
			t.Fatalf("sessions after SetPassword keeping %q = %v, want none", keep, got)
		}
	}
}

func testSessions(t *testing.T, s Store) {
	ctx := ctxFor(t)
	u := NewUser(t, s, "alice", auth.RoleUser)
	other := NewUser(t, s, "bob", auth.RoleUser)
	now := time.Now().Truncate(time.Microsecond)
	older := newSession(t, s, u.ID, "sess-older", now.Add(-2*time.Hour))
	newer := newSession(t, s, u.ID, "sess-newer", now.Add(-time.Hour))
	expired := account.Session{UserID: u.ID, Hash: "sess-expired", CreatedAt: now.Add(-48 * time.Hour), ExpiresAt: now.Add(-time.Minute)}
	if err := s.CreateSession(ctx, expired); err != nil {
		t.Fatalf("CreateSession(expired): %v", err)
	}
	theirs := newSession(t, s, other.ID, "sess-bob", now)

	if got := sessionIDs(t, s, u.ID); !slices.Equal(got, []string{newer.ID, older.ID}) {
		t.Fatalf("Sessions = %v, want the unexpired ones most recently used first: %v", got, []string{newer.ID, older.ID})
	}
	sess, su, err := s.SessionByHash(ctx, older.Hash, now)
	if err != nil {
		t.Fatalf("SessionByHash: %v", err)
	}
	wantUser(t, "the session's user", su, u)
	if sess.ID != older.ID || sess.UserID != u.ID || sess.Hash != older.Hash || sess.UserAgent != "Firefox" || sess.IP != "192.0.2.1" ||
		!sess.CreatedAt.Equal(older.CreatedAt) || !sess.ExpiresAt.Equal(older.ExpiresAt.Truncate(time.Microsecond)) || !sess.LastSeenAt.Equal(now) {
		t.Fatalf("SessionByHash = %+v, want %+v last seen now", sess, older)
	}
	// Seen now, it is the most recently used.
	if got := sessionIDs(t, s, u.ID); !slices.Equal(got, []string{older.ID, newer.ID}) {
		t.Fatalf("Sessions after a use = %v", got)
	}
	_, _, err = s.SessionByHash(ctx, expired.Hash, now)
	wantErr(t, "SessionByHash of an expired session", err, video.ErrNotFound)
	_, _, err = s.SessionByHash(ctx, newer.Hash, newer.ExpiresAt)
	wantErr(t, "SessionByHash at its expiry", err, video.ErrNotFound)
	// The store finds a disabled user's session; refusing it is the
	// caller's business.
	yes := true
	if _, err := s.UpdateUser(ctx, u.ID, account.Change{Disabled: &yes}); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if _, su, err := s.SessionByHash(ctx, newer.Hash, now); err != nil || !su.Disabled {
		t.Fatalf("SessionByHash of a disabled user = %+v, %v", su, err)
	}

	wantErr(t, "DeleteSession of another user's session", s.DeleteSession(ctx, other.ID, older.ID), video.ErrNotFound)
	if err := s.DeleteSession(ctx, u.ID, older.ID); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	_, _, err = s.SessionByHash(ctx, older.Hash, now)
	wantErr(t, "SessionByHash of a deleted session", err, video.ErrNotFound)
	wantErr(t, "DeleteSession again", s.DeleteSession(ctx, u.ID, older.ID), video.ErrNotFound)
	if got := sessionIDs(t, s, other.ID); !slices.Equal(got, []string{theirs.ID}) {
		t.Fatalf("another user's sessions = %v", got)
	}

	// A session given no id gets one.
	if err := s.CreateSession(ctx, account.Session{UserID: u.ID, Hash: "sess-no-id", ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatalf("CreateSession without an id: %v", err)
	}
	if sess, _, err := s.SessionByHash(ctx, "sess-no-id", now); err != nil || !store.ValidID(sess.ID) {
		t.Fatalf("session created without an id = %+v, %v", sess, err)
	}
	for _, bad := range []account.Session{
		{UserID: u.ID, Hash: newer.Hash, ExpiresAt: now.Add(time.Hour)}, // the hash of another
		{ID: newer.ID, UserID: u.ID, Hash: "sess-dup-id", ExpiresAt: now.Add(time.Hour)},
		{UserID: u.ID, Hash: "", ExpiresAt: now.Add(time.Hour)},
		{UserID: u.ID, Hash: "sess-no-expiry"},
		{ID: "not-a-uuid", UserID: u.ID, Hash: "sess-bad-id", ExpiresAt: now.Add(time.Hour)},
	} {
		wantInvalid(t, fmt.Sprintf("CreateSession(%+v)", bad), s.CreateSession(ctx, bad))
	}
}

// The last use of a session or a token is written at most once a minute,
// and never moves back.
func testLastUseThrottled(t *testing.T, s Store) {
	ctx := ctxFor(t)
	u := NewUser(t, s, "alice", auth.RoleUser)
	base := time.Now().Truncate(time.Microsecond)
	sess := newSession(t, s, u.ID, "sess", base)
	if err := s.CreateToken(ctx, account.Token{UserID: u.ID, Name: "cli", Hash: "tok", Scopes: []auth.Scope{auth.ScopeRead}}); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	lastSeen := func() time.Time {
		t.Helper()
		ss, err := s.Sessions(ctx, u.ID)
		if err != nil || len(ss) != 1 {
			t.Fatalf("Sessions = %v, %v", ss, err)
		}
		return ss[0].LastSeenAt
	}
	lastUsed := func() time.Time {
		t.Helper()
		ts, err := s.Tokens(ctx, u.ID)
		if err != nil || len(ts) != 1 {
			t.Fatalf("Tokens = %v, %v", ts, err)
		}
		return ts[0].LastUsedAt
	}
	if !lastUsed().IsZero() {
		t.Fatalf("a new token's last use = %v, want none", lastUsed())
	}
	for _, step := range []struct {
		at, want time.Duration // after base
	}{
		{30 * time.Second, 0},
		{59 * time.Second, 0},
		{61 * time.Second, 61 * time.Second},
		{90 * time.Second, 61 * time.Second},
		{10 * time.Second, 61 * time.Second}, // a clock behind the others
		{3 * time.Minute, 3 * time.Minute},
	} {
		got, _, err := s.SessionByHash(ctx, sess.Hash, base.Add(step.at))
		if err != nil {
			t.Fatalf("SessionByHash: %v", err)
		}
		if want := base.Add(step.want); !got.LastSeenAt.Equal(want) || !lastSeen().Equal(want) {
			t.Fatalf("seen at base+%v: last seen base+%v (stored base+%v), want base+%v",
				step.at, got.LastSeenAt.Sub(base), lastSeen().Sub(base), step.want)
		}
	}
	for _, step := range []struct {
		at, want time.Duration
	}{
		{0, 0}, // the first use is always written
		{30 * time.Second, 0},
		{2 * time.Minute, 2 * time.Minute},
		{time.Minute, 2 * time.Minute},
	} {
		got, _, err := s.TokenByHash(ctx, "tok", base.Add(step.at))
		if err != nil {
			t.Fatalf("TokenByHash: %v", err)
		}
		if want := base.Add(step.want); !got.LastUsedAt.Equal(want) || !lastUsed().Equal(want) {
			t.Fatalf("used at base+%v: last used base+%v (stored base+%v), want base+%v",
				step.at, got.LastUsedAt.Sub(base), lastUsed().Sub(base), step.want)
		}
	}
}

func testTokens(t *testing.T, s Store) {
	ctx := ctxFor(t)
	u := NewUser(t, s, "alice", auth.RoleUser)
	other := NewUser(t, s, "bob", auth.RoleUser)
	now := time.Now().Truncate(time.Microsecond)
	old := account.Token{ID: uuid.NewString(), UserID: u.ID, Name: "laptop", Hash: "tok-old",
		Scopes: []auth.Scope{auth.ScopeRead}, CreatedAt: now.Add(-2 * time.Hour)}
	all := account.Token{ID: uuid.NewString(), UserID: u.ID, Name: "ci", Hash: "tok-all",
		Scopes: []auth.Scope{auth.ScopeRead, auth.ScopeUpload, auth.ScopeAdmin}, CreatedAt: now.Add(-time.Hour)}
	theirs := account.Token{ID: uuid.NewString(), UserID: other.ID, Name: "bob's", Hash: "tok-bob", Scopes: []auth.Scope{auth.ScopeUpload}}
	for _, tok := range []account.Token{old, all, theirs} {
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatalf("CreateToken(%s): %v", tok.Name, err)
		}
	}
	ts, err := s.Tokens(ctx, u.ID)
	if err != nil {
		t.Fatalf("Tokens: %v", err)
	}
	if len(ts) != 2 {
		t.Fatalf("Tokens = %+v, want two", ts)
	}
	for i, want := range []account.Token{all, old} { // newest first
		got := ts[i]
		if got.ID != want.ID || got.UserID != u.ID || got.Name != want.Name || got.Hash != want.Hash ||
			!slices.Equal(got.Scopes, want.Scopes) || !got.CreatedAt.Equal(want.CreatedAt) || !got.LastUsedAt.IsZero() {
			t.Fatalf("Tokens[%d] = %+v, want %+v", i, got, want)
		}
	}
	tok, tu, err := s.TokenByHash(ctx, "tok-all", now)
	if err != nil || tok.ID != all.ID || !slices.Equal(tok.Scopes, all.Scopes) {
		t.Fatalf("TokenByHash = %+v, %v", tok, err)
	}
	wantUser(t, "the token's user", tu, u)

	wantErr(t, "DeleteToken of another user's token", s.DeleteToken(ctx, other.ID, old.ID), video.ErrNotFound)
	if err := s.DeleteToken(ctx, u.ID, old.ID); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	_, _, err = s.TokenByHash(ctx, old.Hash, now)
	wantErr(t, "TokenByHash of a revoked token", err, video.ErrNotFound)
	wantErr(t, "DeleteToken again", s.DeleteToken(ctx, u.ID, old.ID), video.ErrNotFound)
	if ts, err := s.Tokens(ctx, other.ID); err != nil || len(ts) != 1 || ts[0].ID != theirs.ID {
		t.Fatalf("another user's tokens = %+v, %v", ts, err)
	}

	for _, bad := range []account.Token{
		{UserID: u.ID, Name: "dup", Hash: all.Hash, Scopes: []auth.Scope{auth.ScopeRead}},
		{ID: all.ID, UserID: u.ID, Name: "dup id", Hash: "tok-dup-id"},
		{UserID: u.ID, Name: "no hash"},
		{UserID: u.ID, Name: "bad scope", Hash: "tok-bad-scope", Scopes: []auth.Scope{"everything"}},
	} {
		wantInvalid(t, fmt.Sprintf("CreateToken(%+v)", bad), s.CreateToken(ctx, bad))
	}
}

func testInvites(t *testing.T, s Store) {
	ctx := ctxFor(t)
	admin := NewUser(t, s, "admin1", auth.RoleAdmin)
	now := time.Now()
	for _, inv := range []account.Invite{
		{Hash: "inv-1", CreatedBy: admin.ID, ExpiresAt: now.Add(time.Hour)},
		{Hash: "inv-2", ExpiresAt: now.Add(time.Hour)}, // the operator's
		{Hash: "inv-expired", CreatedBy: admin.ID, ExpiresAt: now.Add(-time.Minute)},
	} {
		if err := s.CreateInvite(ctx, inv); err != nil {
			t.Fatalf("CreateInvite(%s): %v", inv.Hash, err)
		}
	}
	wantInvalid(t, "CreateInvite with a hash used", s.CreateInvite(ctx, account.Invite{Hash: "inv-1", ExpiresAt: now.Add(time.Hour)}))
	wantInvalid(t, "CreateInvite without a hash", s.CreateInvite(ctx, account.Invite{ExpiresAt: now.Add(time.Hour)}))
	wantInvalid(t, "CreateInvite without an expiry", s.CreateInvite(ctx, account.Invite{Hash: "inv-x"}))

	// A username taken, or a user refused, leaves the invitation unspent.
	_, err := s.UseInvite(ctx, "inv-1", now, account.User{Username: "ADMIN1"}, "h")
	wantErr(t, "UseInvite with a taken username", err, account.ErrTaken)
	_, err = s.UseInvite(ctx, "inv-1", now, account.User{Username: "newbie", Role: "root"}, "h")
	wantInvalid(t, "UseInvite with role root", err)
	// Presented after it expires, it does nothing, and stays unspent.
	_, err = s.UseInvite(ctx, "inv-1", now.Add(2*time.Hour), account.User{Username: "newbie"}, "h")
	wantErr(t, "UseInvite after its expiry", err, video.ErrNotFound)

	u, err := s.UseInvite(ctx, "inv-1", now, account.User{Username: "Newbie", Email: "newbie@example.com"}, "newbie-hash")
	if err != nil {
		t.Fatalf("UseInvite: %v", err)
	}
	got, hash, err := s.UserByLogin(ctx, "newbie@example.com")
	if err != nil || hash != "newbie-hash" || u.Username != "newbie" || u.Role != auth.RoleUser {
		t.Fatalf("the invited user = %+v (%+v, %q, %v)", u, got, hash, err)
	}
	wantUser(t, "the invited user", got, u)
	if _, err := s.UseInvite(ctx, "inv-2", now, account.User{Username: "other"}, "h"); err != nil {
		t.Fatalf("UseInvite of the operator's invitation: %v", err)
	}

	for _, hash := range []string{"inv-1", "inv-expired", "no-such-invite", ""} {
		_, err := s.UseInvite(ctx, hash, now, account.User{Username: "late"}, "h")
		wantErr(t, fmt.Sprintf("UseInvite(%q)", hash), err, video.ErrNotFound)
	}
	if got := usernames(t, s); !slices.Equal(got, []string{"admin1", "newbie", "other"}) {
		t.Fatalf("users = %q", got)
	}
}

// However many sign up with one invitation at once, one user is made.
func testConcurrentUseInvite(t *testing.T, s Store) {
	ctx := ctxFor(t)
	if err := s.CreateInvite(ctx, account.Invite{Hash: "inv", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("CreateInvite: %v", err)
	}
	var (
		mu     sync.Mutex
		winner string
	)
	errs := concurrently(16, func(i int) error {
		u, err := s.UseInvite(ctx, "inv", time.Now(), account.User{Username: fmt.Sprintf("racer%02d", i)}, "h")
		if err == nil {
			mu.Lock()
			winner = u.Username
			mu.Unlock()
		}
		return err
	})
	exactlyOne(t, "concurrent UseInvite", errs, video.ErrNotFound)
	if got := usernames(t, s); !slices.Equal(got, []string{winner}) {
		t.Fatalf("users after concurrent UseInvite = %q, want only %q", got, winner)
	}
}

func testIdentities(t *testing.T, s Store) {
	ctx := ctxFor(t)
	u := NewUser(t, s, "alice", auth.RoleUser)
	other := NewUser(t, s, "bob", auth.RoleUser)
	const issuer = "https://accounts.example.com"
	link := account.Identity{Issuer: issuer, Subject: "248289761001", UserID: u.ID}
	for range 2 {
		if err := s.LinkIdentity(ctx, link); err != nil {
			t.Fatalf("LinkIdentity: %v", err)
		}
	}
	// A link that exists already is kept, whoever else it is offered to.
	if err := s.LinkIdentity(ctx, account.Identity{Issuer: issuer, Subject: link.Subject, UserID: other.ID}); err != nil {
		t.Fatalf("LinkIdentity to another user: %v", err)
	}
	got, err := s.UserByIdentity(ctx, issuer, link.Subject)
	if err != nil {
		t.Fatalf("UserByIdentity: %v", err)
	}
	wantUser(t, "UserByIdentity", got, u)
	// The same subject at another provider is another account.
	if err := s.LinkIdentity(ctx, account.Identity{Issuer: "https://other.example.org", Subject: link.Subject, UserID: other.ID}); err != nil {
		t.Fatalf("LinkIdentity at another issuer: %v", err)
	}
	if got, err := s.UserByIdentity(ctx, "https://other.example.org", link.Subject); err != nil || got.ID != other.ID {
		t.Fatalf("UserByIdentity at another issuer = %+v, %v", got, err)
	}
	_, err = s.UserByIdentity(ctx, issuer, "someone else")
	wantErr(t, "UserByIdentity of an unlinked subject", err, video.ErrNotFound)
	wantInvalid(t, "LinkIdentity without an issuer", s.LinkIdentity(ctx, account.Identity{Subject: "1", UserID: u.ID}))
	wantInvalid(t, "LinkIdentity without a subject", s.LinkIdentity(ctx, account.Identity{Issuer: issuer, UserID: u.ID}))
}

func testSignInFailures(t *testing.T, s Store) {
	ctx := ctxFor(t)
	const key, other = "ip:192.0.2.1", "user:alice"
	failures := func(key string) (int, time.Time) {
		t.Helper()
		n, last, err := s.SignInFailures(ctx, key)
		if err != nil {
			t.Fatalf("SignInFailures(%s): %v", key, err)
		}
		return n, last
	}
	if n, last := failures(key); n != 0 || !last.IsZero() {
		t.Fatalf("failures of a new key = %d at %v", n, last)
	}
	t0 := time.Now().Truncate(time.Microsecond)
	// The last one arrives first: the time kept is the latest.
	for _, at := range []time.Duration{0, 2 * time.Second, time.Second} {
		if err := s.RecordSignInFailure(ctx, key, t0.Add(at)); err != nil {
			t.Fatalf("RecordSignInFailure: %v", err)
		}
	}
	if n, last := failures(key); n != 3 || !last.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("failures = %d at %v, want 3 at %v", n, last, t0.Add(2*time.Second))
	}
	if n, _ := failures(other); n != 0 {
		t.Fatalf("failures of another key = %d", n)
	}
	for range 2 {
		if err := s.ClearSignInFailures(ctx, key); err != nil {
			t.Fatalf("ClearSignInFailures: %v", err)
		}
	}
	if n, last := failures(key); n != 0 || !last.IsZero() {
		t.Fatalf("failures after clearing = %d at %v", n, last)
	}
}
