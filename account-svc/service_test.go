package accountsvc

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/video"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

func TestSignUpModesAndInvitations(t *testing.T) {
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		e := newEnv(t, p, testConfig())
		ctx := context.Background()

		// Open: anyone, as a user; the session works at once.
		alice := e.signUp("Alice")
		if alice.user.GetUsername() != "alice" || alice.user.GetRole() != "user" || alice.user.GetEmail() != "alice@example.com" || alice.p.UserID != alice.user.GetId() || alice.p.SessionID == "" || alice.p.Scopes != nil {
			t.Errorf("signed up %v as %+v", alice.user, alice.p)
		}
		if !strings.HasPrefix(alice.secret, auth.SessionPrefix) {
			t.Errorf("session secret %q", alice.secret)
		}
		_, err := e.svc.SignUp(ctx, &pb.SignUpRequest{Username: "ALICE", Email: "other@example.com", Password: "long enough"})
		wantCode(t, "username taken", err, codes.AlreadyExists, "taken")
		_, err = e.svc.SignUp(ctx, &pb.SignUpRequest{Username: "alice2", Email: "Alice@Example.com", Password: "long enough"})
		wantCode(t, "e-mail taken", err, codes.AlreadyExists, "taken")
		for want, req := range map[string]*pb.SignUpRequest{
			"username":   {Username: "a!", Email: "x@example.com", Password: "long enough"},
			"reserved":   {Username: "admin", Email: "x@example.com", Password: "long enough"},
			"not an add": {Username: "xavier", Email: "x", Password: "long enough"},
			"password":   {Username: "xavier", Email: "x@example.com", Password: "short"},
		} {
			_, err := e.svc.SignUp(ctx, req)
			wantCode(t, "sign-up "+want, err, codes.InvalidArgument, want)
		}

		// Closed: nobody.
		closed := testConfig()
		closed.SignUp = "closed"
		_, err = e.service(closed).SignUp(ctx, &pb.SignUpRequest{Username: "bob", Email: "bob@example.com", Password: "long enough"})
		wantCode(t, "closed sign-up", err, codes.FailedPrecondition, "sign-up is closed")

		// By invitation: one account per invitation, before it expires.
		inviteCfg := testConfig()
		inviteCfg.SignUp = "invite"
		invite := e.service(inviteCfg)
		admin := e.withRole("root-admin", auth.RoleAdmin)
		_, err = invite.SignUp(ctx, &pb.SignUpRequest{Username: "bob", Email: "bob@example.com", Password: "long enough"})
		wantCode(t, "no invitation", err, codes.InvalidArgument, "invitation")
		_, err = invite.SignUp(ctx, &pb.SignUpRequest{Username: "bob", Email: "bob@example.com", Password: "long enough", Invite: "cfi_made-up"})
		wantCode(t, "unknown invitation", err, codes.FailedPrecondition, "invitation")
		inv, err := invite.CreateInvite(admin.ctx(), &pb.CreateInviteRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(inv.GetCode(), auth.InvitePrefix) || !inv.GetExpiresAt().AsTime().Equal(e.clock.Now().Add(inviteCfg.InviteTTL).Truncate(time.Microsecond)) {
			t.Errorf("invite %v", inv)
		}
		_, err = invite.SignUp(ctx, &pb.SignUpRequest{Username: "b", Email: "bob@example.com", Password: "long enough", Invite: inv.GetCode()})
		wantCode(t, "invalid sign-up with an invitation", err, codes.InvalidArgument, "username")
		bob, err := invite.SignUp(ctx, &pb.SignUpRequest{Username: "bob", Email: "bob@example.com", Password: "long enough", Invite: inv.GetCode()})
		if err != nil || bob.GetUser().GetRole() != "user" {
			t.Fatalf("sign-up with an invitation: %v %v", bob, err)
		}
		_, err = invite.SignUp(ctx, &pb.SignUpRequest{Username: "carol", Email: "carol@example.com", Password: "long enough", Invite: inv.GetCode()})
		wantCode(t, "invitation used twice", err, codes.FailedPrecondition, "invitation")

		late, err := invite.CreateInvite(admin.ctx(), &pb.CreateInviteRequest{})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(inviteCfg.InviteTTL + time.Second)
		_, err = invite.SignUp(ctx, &pb.SignUpRequest{Username: "carol", Email: "carol@example.com", Password: "long enough", Invite: late.GetCode()})
		wantCode(t, "expired invitation", err, codes.FailedPrecondition, "invitation")

		// An admin's token with the admin scope invites too.
		tok, _ := e.token(admin, "admin")
		if _, err := invite.CreateInvite(as(tok), &pb.CreateInviteRequest{}); err != nil {
			t.Errorf("invite with an admin token: %v", err)
		}
	})
}

func TestSignIn(t *testing.T) {
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		e := newEnv(t, p, testConfig())
		alice := e.signUp("alice")
		ctx := context.Background()

		for _, login := range []string{"alice", " ALICE ", "Alice@Example.COM"} {
			resp, err := e.svc.SignIn(ctx, &pb.SignInRequest{Login: login, Password: alice.password, Client: &pb.Client{Ip: "192.0.2.9", UserAgent: "curl"}})
			if err != nil {
				t.Fatalf("sign in as %q: %v", login, err)
			}
			if resp.GetUser().GetId() != alice.user.GetId() || resp.GetSession().GetIp() != "192.0.2.9" || resp.GetSession().GetUserAgent() != "curl" || !resp.GetSession().GetCurrent() {
				t.Errorf("signed in as %q: %v", login, resp)
			}
			if got := e.principal(resp.GetSessionToken()); got.UserID != alice.user.GetId() {
				t.Errorf("session of %q is %+v", login, got)
			}
		}

		// A wrong password, nobody, and a disabled account: one answer.
		admin := e.withRole("boss", auth.RoleAdmin)
		disabled := e.signUp("dora")
		if _, err := e.svc.UpdateUser(admin.ctx(), &pb.UpdateUserRequest{Id: disabled.user.GetId(), Disabled: proto.Bool(true)}); err != nil {
			t.Fatal(err)
		}
		var messages []string
		for _, req := range []*pb.SignInRequest{
			{Login: "alice", Password: "wrong password"},
			{Login: "nobody", Password: "wrong password"},
			{Login: "nobody@example.com", Password: "wrong password"},
			{Login: "dora", Password: disabled.password},
		} {
			_, err := e.svc.SignIn(ctx, req)
			wantCode(t, "sign in as "+req.Login, err, codes.Unauthenticated, account.ErrBadCredentials.Error())
			messages = append(messages, err.Error())
		}
		for _, m := range messages[1:] {
			if m != messages[0] {
				t.Errorf("refusals differ: %q and %q", messages[0], m)
			}
		}
		_, err := e.svc.SignIn(ctx, &pb.SignInRequest{Login: "alice"})
		wantCode(t, "no password", err, codes.InvalidArgument, "password")

		// Every refusal costs one argon2id check, whether the login names
		// an account with a password, nobody, or a disabled account: an
		// unknown login takes the time a wrong password does.
		var checks atomic.Int32
		e.svc.checkPassword = func(hash, pw string) (bool, error) { checks.Add(1); return auth.CheckPassword(hash, pw) }
		e.svc.checkNobody = func(pw string) { checks.Add(1); auth.CheckNobody(pw) }
		for _, login := range []string{"alice", "nobody-at-all", "nobody@example.com", "dora"} {
			checks.Store(0)
			_, _ = e.svc.SignIn(ctx, &pb.SignInRequest{Login: login, Password: "wrong password", Client: &pb.Client{Ip: "203.0.113.50"}})
			if n := checks.Load(); n != 1 {
				t.Errorf("refusing %s spent %d password checks, want 1", login, n)
			}
		}
	})
}

func TestAuthenticateAfterRevokeExpiryAndDisable(t *testing.T) {
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		e := newEnv(t, p, testConfig())
		admin := e.withRole("boss", auth.RoleAdmin)
		alice := e.signUp("alice")
		tok, tokSecret := e.token(alice, "upload", "read")
		if tok.UserID != alice.user.GetId() || tok.SessionID != "" || len(tok.Scopes) != 2 || tok.Scopes[0] != auth.ScopeRead || tok.Scopes[1] != auth.ScopeUpload {
			t.Errorf("token principal %+v", tok)
		}

		var messages []string
		for _, secret := range []string{"", "nonsense", auth.SessionPrefix + "made-up", auth.TokenPrefix + "made-up"} {
			_, err := e.svc.Authenticate(context.Background(), &pb.AuthenticateRequest{Secret: secret})
			wantCode(t, "authenticate "+secret, err, codes.Unauthenticated, "unknown, expired or revoked")
			messages = append(messages, err.Error())
		}

		// Disabled: both kinds of credential stop, and work again after.
		for _, disabled := range []bool{true, false} {
			if _, err := e.svc.UpdateUser(admin.ctx(), &pb.UpdateUserRequest{Id: alice.user.GetId(), Disabled: proto.Bool(disabled)}); err != nil {
				t.Fatal(err)
			}
			if e.authenticates(alice.secret) == disabled || e.authenticates(tokSecret) == disabled {
				t.Errorf("disabled %v: the session or the token answers otherwise", disabled)
			}
		}

		// Signing out needs a session.
		_, err := e.svc.SignOut(as(tok), &pb.SignOutRequest{})
		wantCode(t, "sign out with a token", err, codes.FailedPrecondition, "revoke the token")
		_, err = e.svc.SignOut(context.Background(), &pb.SignOutRequest{})
		wantCode(t, "sign out anonymously", err, codes.Unauthenticated, "")

		// Revoked.
		if _, err := e.svc.RevokeToken(alice.ctx(), &pb.RevokeTokenRequest{Id: tokenID(t, e, alice)}); err != nil {
			t.Fatal(err)
		}
		if e.authenticates(tokSecret) {
			t.Error("a revoked token still authenticates")
		}
		if _, err := e.svc.SignOut(alice.ctx(), &pb.SignOutRequest{}); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Authenticate(context.Background(), &pb.AuthenticateRequest{Secret: alice.secret})
		wantCode(t, "signed out", err, codes.Unauthenticated, "")
		if err != nil {
			messages = append(messages, err.Error())
		}
		if _, err := e.svc.SignOut(alice.ctx(), &pb.SignOutRequest{}); err != nil {
			t.Errorf("signing out twice: %v", err)
		}

		// Expired.
		bob := e.signUp("bob")
		e.clock.Advance(testConfig().SessionTTL - time.Minute)
		if !e.authenticates(bob.secret) {
			t.Error("a session a minute before its end does not authenticate")
		}
		e.clock.Advance(2 * time.Minute)
		if e.authenticates(bob.secret) {
			t.Error("an expired session authenticates")
		}
		for _, m := range messages[1:] {
			if m != messages[0] {
				t.Errorf("refusals differ: %q and %q", messages[0], m)
			}
		}
	})
}

func tokenID(t *testing.T, e *testEnv, pr person) string {
	t.Helper()
	resp, err := e.svc.ListTokens(pr.ctx(), &pb.ListTokensRequest{})
	if err != nil || len(resp.GetTokens()) == 0 {
		t.Fatalf("list tokens: %v %v", resp, err)
	}
	return resp.GetTokens()[0].GetId()
}

func TestGetUserShowsPrivateFieldsToTheUserAndAdmins(t *testing.T) {
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		e := newEnv(t, p, testConfig())
		admin := e.withRole("boss", auth.RoleAdmin)
		alice, bob := e.signUp("alice"), e.signUp("bob")
		ctx := context.Background()
		v := video.Video{ID: "0192f0c1-0000-7000-8000-000000000001", OwnerID: alice.user.GetId(), Title: "x", State: video.StateUploading, SizeBytes: 300, ContentType: "video/mp4"}
		if err := e.db.CreateVideo(ctx, v, video.UploadSession{UploadID: "u", ObjectKey: video.SourceKey(v.ID), SizeBytes: 300, PartSize: 5 << 20, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		aliceRead, _ := e.token(alice, "read")

		for name, c := range map[string]struct {
			ctx      context.Context
			username string
			private  bool
		}{
			"herself":         {alice.ctx(), "", true},
			"herself by name": {alice.ctx(), "ALICE", true},
			"her read token":  {as(aliceRead), "", true},
			"another user":    {bob.ctx(), "alice", false},
			"anonymous":       {ctx, "alice", false},
			"an admin":        {admin.ctx(), "alice", true},
		} {
			u, err := e.svc.GetUser(c.ctx, &pb.GetUserRequest{Username: c.username})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if u.GetId() != alice.user.GetId() || u.GetUsername() != "alice" || u.GetRole() != "user" || u.GetCreatedAt() == nil {
				t.Errorf("%s: %v", name, u)
			}
			if c.private {
				want := &pb.Quota{StorageBytes: 5000, DailyUploadBytes: 1000, StoredBytes: 300, UploadedTodayBytes: 300}
				if u.GetEmail() != "alice@example.com" || !proto.Equal(u.GetQuota(), want) {
					t.Errorf("%s sees %v, want e-mail and quota %v", name, u, want)
				}
			} else if u.GetEmail() != "" || u.GetQuota() != nil {
				t.Errorf("%s sees private fields: %v", name, u)
			}
		}
		_, err := e.svc.GetUser(ctx, &pb.GetUserRequest{})
		wantCode(t, "anonymous caller", err, codes.Unauthenticated, "")
		_, err = e.svc.GetUser(ctx, &pb.GetUserRequest{Username: "nobody"})
		wantCode(t, "unknown user", err, codes.NotFound, "")

		// An admin's quotas replace the defaults; -1 is unlimited, 0 the
		// default again.
		u, err := e.svc.UpdateUser(admin.ctx(), &pb.UpdateUserRequest{Id: alice.user.GetId(), StorageQuotaBytes: proto.Int64(-1), DailyUploadQuotaBytes: proto.Int64(2000)})
		if err != nil || u.GetQuota().GetStorageBytes() != -1 || u.GetQuota().GetDailyUploadBytes() != 2000 {
			t.Errorf("quotas set: %v %v", u, err)
		}
		u, err = e.svc.UpdateUser(admin.ctx(), &pb.UpdateUserRequest{Id: alice.user.GetId(), StorageQuotaBytes: proto.Int64(0)})
		if err != nil || u.GetQuota().GetStorageBytes() != 5000 || u.GetQuota().GetDailyUploadBytes() != 2000 {
			t.Errorf("storage quota back to the default: %v %v", u, err)
		}
		// A day later the upload no longer counts against the daily quota.
		e.clock.Advance(25 * time.Hour)
		if u, err := e.svc.GetUser(alice.ctx(), &pb.GetUserRequest{}); err == nil && (u.GetQuota().GetUploadedTodayBytes() != 0 || u.GetQuota().GetStoredBytes() != 300) {
			t.Errorf("a day later: %v", u.GetQuota())
		}
	})
}

func TestChangePassword(t *testing.T) {
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		e := newEnv(t, p, testConfig())
		alice := e.signUp("alice")
		other, err := e.svc.SignIn(context.Background(), &pb.SignInRequest{Login: "alice", Password: alice.password})
		if err != nil {
			t.Fatal(err)
		}
		tok, tokSecret := e.token(alice, "read", "upload")

		_, err = e.svc.ChangePassword(as(tok), &pb.ChangePasswordRequest{CurrentPassword: alice.password, NewPassword: "a new password"})
		wantCode(t, "with a token", err, codes.PermissionDenied, "browser")
		_, err = e.svc.ChangePassword(alice.ctx(), &pb.ChangePasswordRequest{CurrentPassword: "wrong password", NewPassword: "a new password"})
		wantCode(t, "wrong current password", err, codes.InvalidArgument, "current password is wrong")
		_, err = e.svc.ChangePassword(alice.ctx(), &pb.ChangePasswordRequest{CurrentPassword: alice.password, NewPassword: "short"})
		wantCode(t, "short new password", err, codes.InvalidArgument, "at least")

		if _, err := e.svc.ChangePassword(alice.ctx(), &pb.ChangePasswordRequest{CurrentPassword: alice.password, NewPassword: "a new password"}); err != nil {
			t.Fatal(err)
		}
		if !e.authenticates(alice.secret) || e.authenticates(other.GetSessionToken()) || !e.authenticates(tokSecret) {
			t.Error("after a change of password: the session of the change must stay, the others end, tokens stay")
		}
		_, err = e.svc.SignIn(context.Background(), &pb.SignInRequest{Login: "alice", Password: alice.password})
		wantCode(t, "old password", err, codes.Unauthenticated, "")
		if _, err := e.svc.SignIn(context.Background(), &pb.SignInRequest{Login: "alice", Password: "a new password"}); err != nil {
			t.Errorf("new password: %v", err)
		}
	})
}

func TestSessions(t *testing.T) {
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		e := newEnv(t, p, testConfig())
		alice, bob := e.signUp("alice"), e.signUp("bob")
		second, err := e.svc.SignIn(context.Background(), &pb.SignInRequest{Login: "alice", Password: alice.password, Client: &pb.Client{Ip: "2001:db8::1", UserAgent: "phone"}})
		if err != nil {
			t.Fatal(err)
		}
		list, err := e.svc.ListSessions(alice.ctx(), &pb.ListSessionsRequest{})
		if err != nil || len(list.GetSessions()) != 2 {
			t.Fatalf("list: %v %v", list, err)
		}
		for _, s := range list.GetSessions() {
			if s.GetCurrent() != (s.GetId() == alice.p.SessionID) || s.GetExpiresAt() == nil || s.GetCreatedAt() == nil {
				t.Errorf("session %v (current is %s)", s, alice.p.SessionID)
			}
			if s.GetId() == second.GetSession().GetId() && (s.GetIp() != "2001:db8::1" || s.GetUserAgent() != "phone") {
				t.Errorf("second session %v", s)
			}
		}
		_, err = e.svc.RevokeSession(bob.ctx(), &pb.RevokeSessionRequest{Id: second.GetSession().GetId()})
		wantCode(t, "revoke another user's session", err, codes.NotFound, "")
		_, err = e.svc.RevokeSession(alice.ctx(), &pb.RevokeSessionRequest{Id: "not-an-id"})
		wantCode(t, "revoke a malformed id", err, codes.NotFound, "")
		if _, err := e.svc.RevokeSession(alice.ctx(), &pb.RevokeSessionRequest{Id: second.GetSession().GetId()}); err != nil {
			t.Fatal(err)
		}
		if e.authenticates(second.GetSessionToken()) || !e.authenticates(alice.secret) {
			t.Error("revoking one session must end it and only it")
		}
		_, err = e.svc.RevokeSession(alice.ctx(), &pb.RevokeSessionRequest{Id: second.GetSession().GetId()})
		wantCode(t, "revoke twice", err, codes.NotFound, "")
	})
}

func TestTokens(t *testing.T) {
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		e := newEnv(t, p, testConfig())
		alice, bob := e.signUp("alice"), e.signUp("bob")
		mod := e.withRole("mod", auth.RoleModerator)
		for want, req := range map[string]*pb.CreateTokenRequest{
			"name must be":      {Name: " ", Scopes: []string{"read"}},
			"1 to 100":          {Name: strings.Repeat("n", 101), Scopes: []string{"read"}},
			"at least one":      {Name: "n"},
			`scope "write"`:     {Name: "n", Scopes: []string{"read", "write"}},
			"moderators and ad": {Name: "n", Scopes: []string{"admin"}},
		} {
			_, err := e.svc.CreateToken(alice.ctx(), req)
			wantCode(t, "create token: "+want, err, codes.InvalidArgument, want)
		}
		resp, err := e.svc.CreateToken(alice.ctx(), &pb.CreateTokenRequest{Name: "  laptop CLI ", Scopes: []string{"UPLOAD", "read", "upload"}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(resp.GetSecret(), auth.TokenPrefix) || resp.GetToken().GetName() != "laptop CLI" || strings.Join(resp.GetToken().GetScopes(), ",") != "read,upload" || resp.GetToken().GetLastUsedAt() != nil {
			t.Errorf("token %v", resp)
		}
		if _, err := e.svc.CreateToken(mod.ctx(), &pb.CreateTokenRequest{Name: "moderation", Scopes: []string{"admin"}}); err != nil {
			t.Errorf("a moderator's admin-scope token: %v", err)
		}

		// Used, it says when; listed, it has no secret.
		used := e.principal(resp.GetSecret())
		list, err := e.svc.ListTokens(alice.ctx(), &pb.ListTokensRequest{})
		if err != nil || len(list.GetTokens()) != 1 || list.GetTokens()[0].GetLastUsedAt() == nil || list.GetTokens()[0].GetId() != resp.GetToken().GetId() {
			t.Errorf("list: %v %v", list, err)
		}
		if strings.Contains(list.String(), resp.GetSecret()) {
			t.Error("the list shows the secret")
		}

		// A token cannot mint, list or revoke tokens.
		_, err = e.svc.CreateToken(as(used), &pb.CreateTokenRequest{Name: "n", Scopes: []string{"read"}})
		wantCode(t, "token mints a token", err, codes.PermissionDenied, "API token")

		_, err = e.svc.RevokeToken(bob.ctx(), &pb.RevokeTokenRequest{Id: resp.GetToken().GetId()})
		wantCode(t, "revoke another user's token", err, codes.NotFound, "")
		if _, err := e.svc.RevokeToken(alice.ctx(), &pb.RevokeTokenRequest{Id: resp.GetToken().GetId()}); err != nil {
			t.Fatal(err)
		}
		if e.authenticates(resp.GetSecret()) {
			t.Error("revoked token authenticates")
		}
		list, _ = e.svc.ListTokens(alice.ctx(), &pb.ListTokensRequest{})
		if len(list.GetTokens()) != 0 {
			t.Errorf("after revoke: %v", list)
		}
	})
}

func TestAdminManagesUsers(t *testing.T) {
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		e := newEnv(t, p, testConfig())
		admin := e.withRole("boss", auth.RoleAdmin)
		ctx := admin.ctx()

		mod, err := e.svc.CreateUser(ctx, &pb.CreateUserRequest{Username: "Mod", Email: "mod@example.com", Password: "long enough", Role: "moderator"})
		if err != nil || mod.GetRole() != "moderator" || mod.GetUsername() != "mod" || mod.GetQuota() == nil {
			t.Fatalf("create a moderator: %v %v", mod, err)
		}
		if _, err := e.svc.SignIn(context.Background(), &pb.SignInRequest{Login: "mod", Password: "long enough"}); err != nil {
			t.Errorf("the new user signs in: %v", err)
		}
		_, err = e.svc.CreateUser(ctx, &pb.CreateUserRequest{Username: "mod", Email: "mod2@example.com", Password: "long enough"})
		wantCode(t, "create a taken username", err, codes.AlreadyExists, "")
		_, err = e.svc.CreateUser(ctx, &pb.CreateUserRequest{Username: "x1y", Email: "x@example.com", Password: "long enough", Role: "king"})
		wantCode(t, "create with an unknown role", err, codes.InvalidArgument, "role")

		// Sign-up closed does not stop an admin.
		closed := testConfig()
		closed.SignUp = "closed"
		if u, err := e.service(closed).CreateUser(ctx, &pb.CreateUserRequest{Username: "dave", Email: "dave@example.com", Password: "long enough"}); err != nil || u.GetRole() != "user" {
			t.Errorf("create with sign-up closed: %v %v", u, err)
		}

		u, err := e.svc.UpdateUser(ctx, &pb.UpdateUserRequest{Id: mod.GetId(), Role: proto.String("admin"), Disabled: proto.Bool(true)})
		if err != nil || u.GetRole() != "admin" || !u.GetDisabled() {
			t.Errorf("update: %v %v", u, err)
		}
		u, err = e.svc.UpdateUser(ctx, &pb.UpdateUserRequest{Id: mod.GetId()})
		if err != nil || u.GetRole() != "admin" || !u.GetDisabled() {
			t.Errorf("an empty update changes nothing: %v %v", u, err)
		}
		_, err = e.svc.UpdateUser(ctx, &pb.UpdateUserRequest{Id: mod.GetId(), StorageQuotaBytes: proto.Int64(-2)})
		wantCode(t, "quota below -1", err, codes.InvalidArgument, "quota")
		_, err = e.svc.UpdateUser(ctx, &pb.UpdateUserRequest{Id: "0192f0c1-0000-7000-8000-00000000dead", Disabled: proto.Bool(true)})
		wantCode(t, "update nobody", err, codes.NotFound, "")

		// An admin cannot demote or disable themselves; another admin can.
		for _, req := range []*pb.UpdateUserRequest{
			{Id: admin.user.GetId(), Role: proto.String("moderator")},
			{Id: admin.user.GetId(), Disabled: proto.Bool(true)},
		} {
			_, err := e.svc.UpdateUser(ctx, req)
			wantCode(t, "update oneself", err, codes.FailedPrecondition, "their own role")
		}
		if _, err := e.svc.UpdateUser(ctx, &pb.UpdateUserRequest{Id: admin.user.GetId(), Role: proto.String("admin"), DailyUploadQuotaBytes: proto.Int64(-1)}); err != nil {
			t.Errorf("an admin keeps their role and lifts their own quota: %v", err)
		}
		if _, err := e.svc.UpdateUser(ctx, &pb.UpdateUserRequest{Id: mod.GetId(), Disabled: proto.Bool(false)}); err != nil {
			t.Fatal(err)
		}
		other := e.principal(mustSignIn(t, e, "mod", "long enough"))
		if _, err := e.svc.UpdateUser(as(other), &pb.UpdateUserRequest{Id: admin.user.GetId(), Role: proto.String("user")}); err != nil {
			t.Errorf("another admin demotes: %v", err)
		}
		if _, err := e.svc.UpdateUser(as(other), &pb.UpdateUserRequest{Id: admin.user.GetId(), Role: proto.String("admin")}); err != nil {
			t.Fatal(err)
		}

		// Pages of two walk every user once, in username order.
		var names []string
		cursor := ""
		for range 10 {
			page, err := e.svc.ListUsers(ctx, &pb.ListUsersRequest{PageSize: proto.Int32(2), Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range page.GetUsers() {
				names = append(names, u.GetUsername())
				if u.GetEmail() == "" {
					t.Errorf("admin list without e-mail: %v", u)
				}
			}
			if cursor = page.GetNextCursor(); cursor == "" {
				break
			}
		}
		if strings.Join(names, ",") != "boss,dave,mod" {
			t.Errorf("listed %v", names)
		}
		for _, size := range []int32{0, 201} {
			_, err := e.svc.ListUsers(ctx, &pb.ListUsersRequest{PageSize: proto.Int32(size)})
			wantCode(t, "page size", err, codes.InvalidArgument, "page_size")
		}
	})
}

func mustSignIn(t *testing.T, e *testEnv, login, pw string) string {
	t.Helper()
	resp, err := e.svc.SignIn(context.Background(), &pb.SignInRequest{Login: login, Password: pw})
	if err != nil {
		t.Fatalf("sign in %s: %v", login, err)
	}
	return resp.GetSessionToken()
}

// TestAuthorization holds every call that needs someone against every kind
// of caller: account management needs a browser session, user management
// an admin's session or admin-scope token.
func TestAuthorization(t *testing.T) {
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		e := newEnv(t, p, testConfig())
		user := e.signUp("alice")
		admin := e.withRole("boss", auth.RoleAdmin)
		mod := e.withRole("mod", auth.RoleModerator)
		userToken, _ := e.token(user, "read", "upload")
		adminToken, _ := e.token(admin, "admin")
		adminReadToken, _ := e.token(admin, "read")

		actors := []struct {
			name string
			p    auth.Principal
			kind string // anonymous, token, session
		}{
			{"anonymous", auth.Principal{}, "anonymous"},
			{"user session", user.p, "session"},
			{"user token", userToken, "token"},
			{"moderator session", mod.p, "session"},
			{"admin session", admin.p, "session"},
			{"admin token with the admin scope", adminToken, "token"},
			{"admin token without it", adminReadToken, "token"},
		}
		unknownID := "0192f0c1-0000-7000-8000-00000000beef"
		calls := []struct {
			name string
			// who is allowed: "session", "admin" or "signed-in"
			rule string
			call func(context.Context) error
		}{
			{"GetUser", "signed-in", func(ctx context.Context) error { _, err := e.svc.GetUser(ctx, &pb.GetUserRequest{}); return err }},
			{"ChangePassword", "session", func(ctx context.Context) error {
				_, err := e.svc.ChangePassword(ctx, &pb.ChangePasswordRequest{CurrentPassword: "x", NewPassword: "short"})
				return err
			}},
			{"ListSessions", "session", func(ctx context.Context) error {
				_, err := e.svc.ListSessions(ctx, &pb.ListSessionsRequest{})
				return err
			}},
			{"RevokeSession", "session", func(ctx context.Context) error {
				_, err := e.svc.RevokeSession(ctx, &pb.RevokeSessionRequest{Id: unknownID})
				return err
			}},
			{"CreateToken", "session", func(ctx context.Context) error {
				_, err := e.svc.CreateToken(ctx, &pb.CreateTokenRequest{})
				return err
			}},
			{"ListTokens", "session", func(ctx context.Context) error { _, err := e.svc.ListTokens(ctx, &pb.ListTokensRequest{}); return err }},
			{"RevokeToken", "session", func(ctx context.Context) error {
				_, err := e.svc.RevokeToken(ctx, &pb.RevokeTokenRequest{Id: unknownID})
				return err
			}},
			{"CreateInvite", "admin", func(ctx context.Context) error {
				_, err := e.svc.CreateInvite(ctx, &pb.CreateInviteRequest{})
				return err
			}},
			{"CreateUser", "admin", func(ctx context.Context) error {
				_, err := e.svc.CreateUser(ctx, &pb.CreateUserRequest{Username: "!"})
				return err
			}},
			{"UpdateUser", "admin", func(ctx context.Context) error {
				_, err := e.svc.UpdateUser(ctx, &pb.UpdateUserRequest{Id: unknownID})
				return err
			}},
			{"ListUsers", "admin", func(ctx context.Context) error { _, err := e.svc.ListUsers(ctx, &pb.ListUsersRequest{}); return err }},
		}
		for _, c := range calls {
			for _, a := range actors {
				allowed := a.kind != "anonymous"
				switch c.rule {
				case "session":
					allowed = a.kind == "session"
				case "admin":
					allowed = a.p.Administers()
				}
				err := c.call(as(a.p))
				got := status.Code(err)
				switch {
				case allowed && (got == codes.Unauthenticated || got == codes.PermissionDenied):
					t.Errorf("%s by %s: refused (%v)", c.name, a.name, err)
				case !allowed && a.kind == "anonymous" && got != codes.Unauthenticated:
					t.Errorf("%s by %s: %v, want Unauthenticated", c.name, a.name, err)
				case !allowed && a.kind != "anonymous" && got != codes.PermissionDenied:
					t.Errorf("%s by %s: %v, want PermissionDenied", c.name, a.name, err)
				}
			}
		}
	})
}
