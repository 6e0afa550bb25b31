package accountsvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/video"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

var (
	errSignUpClosed = status.Error(codes.FailedPrecondition, "sign-up is closed: an admin makes accounts on this site")
	errBadInvite    = status.Error(codes.FailedPrecondition, "the invitation is unknown, used or expired: ask for a new one")
	// errBadSecret is every refusal of Authenticate, so that it tells
	// nothing about why.
	errBadSecret = fmt.Errorf("the session or API token is unknown, expired or revoked: %w", video.ErrUnauthenticated)
)

// SignUp makes a user account as the operator's sign-up mode allows and
// signs it in. With invitations, the invitation is spent in the same
// transaction that makes the user, so one invitation makes one account.
func (s *Service) SignUp(ctx context.Context, req *pb.SignUpRequest) (*pb.SignInResponse, error) {
	if s.signUp == account.SignUpClosed {
		return nil, errSignUpClosed
	}
	u, hash, err := NewUser(req.GetUsername(), req.GetEmail(), req.GetPassword(), auth.RoleUser)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if s.signUp == account.SignUpInvite {
		code := strings.TrimSpace(req.GetInvite())
		if code == "" {
			return nil, status.Error(codes.InvalidArgument, "an invitation is needed to sign up on this site")
		}
		u, err = s.store.UseInvite(ctx, auth.HashSecret(code), s.clock(), u, hash)
		if errors.Is(err, video.ErrNotFound) {
			return nil, errBadInvite
		}
	} else {
		u, err = s.store.CreateUser(ctx, u, hash)
	}
	if err != nil {
		return nil, rpc.Error(ctx, taken(err))
	}
	s.signIns.WithLabelValues("signup", "ok").Inc()
	resp, err := s.openSession(ctx, u, req.GetClient())
	return resp, rpc.Error(ctx, err)
}

// SignIn checks a login and password and opens a session, throttled as
// throttle.go says. An unknown login, a wrong password and a disabled
// account get one answer, in the same time.
func (s *Service) SignIn(ctx context.Context, req *pb.SignInRequest) (*pb.SignInResponse, error) {
	login, pw := normalizeLogin(req.GetLogin()), req.GetPassword()
	switch {
	case login == "" || pw == "":
		return nil, status.Error(codes.InvalidArgument, "a login (username or e-mail) and a password are required")
	case len(login) > account.MaxEmailBytes:
		return nil, status.Errorf(codes.InvalidArgument, "a login is at most %d characters", account.MaxEmailBytes)
	case len(pw) > auth.MaxPasswordBytes:
		// No password this long was ever accepted: refuse it before
		// spending a hash on it.
		return nil, rpc.Error(ctx, account.ErrBadCredentials)
	}
	now := s.now()
	keys := signInKeys(req.GetClient().GetIp(), login)
	wait, err := s.wait(ctx, keys, now)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if wait > 0 {
		s.signIns.WithLabelValues("password", "throttled").Inc()
		return nil, throttled(wait, now)
	}
	u, err := s.checkLogin(ctx, login, pw)
	if errors.Is(err, account.ErrBadCredentials) {
		s.signIns.WithLabelValues("password", "refused").Inc()
		if err := s.recordFailure(ctx, keys, now); err != nil {
			return nil, rpc.Error(ctx, err)
		}
		return nil, rpc.Error(ctx, err)
	}
	if err == nil {
		err = s.clearFailures(ctx, keys)
	}
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	s.signIns.WithLabelValues("password", "ok").Inc()
	resp, err := s.openSession(ctx, u, req.GetClient())
	return resp, rpc.Error(ctx, err)
}

// checkLogin is the user whose login and password these are, or
// account.ErrBadCredentials. Every refusal costs one argon2id hash: a
// login that names nobody, or an account with no password (made by an
// OpenID provider), is checked against a decoy.
func (s *Service) checkLogin(ctx context.Context, login, pw string) (account.User, error) {
	u, hash, err := s.store.UserByLogin(ctx, login)
	if errors.Is(err, video.ErrNotFound) || (err == nil && hash == "") {
		s.checkNobody(pw)
		return account.User{}, account.ErrBadCredentials
	}
	if err != nil {
		return account.User{}, fmt.Errorf("sign in: %w", err)
	}
	ok, err := s.checkPassword(hash, pw)
	if err != nil {
		slog.ErrorContext(ctx, "stored password hash unreadable", "user_id", u.ID, "err", err)
		return account.User{}, account.ErrBadCredentials
	}
	if !ok || u.Disabled {
		return account.User{}, account.ErrBadCredentials
	}
	return u, nil
}

// SignOut ends the session the call came with. Ending one that has ended
// already is no error: the browser is signed out either way.
func (s *Service) SignOut(ctx context.Context, _ *pb.SignOutRequest) (*pb.SignOutResponse, error) {
	p := auth.FromContext(ctx)
	switch {
	case p.Anonymous():
		return nil, rpc.Error(ctx, video.ErrUnauthenticated)
	case p.SessionID == "":
		return nil, status.Error(codes.FailedPrecondition, "an API token has no session to end: revoke the token instead")
	}
	if err := s.store.DeleteSession(ctx, p.UserID, p.SessionID); err != nil && !errors.Is(err, video.ErrNotFound) {
		return nil, rpc.Error(ctx, fmt.Errorf("sign out: %w", err))
	}
	return &pb.SignOutResponse{}, nil
}

// Authenticate turns a session secret or an API token into its principal,
// with one indexed read (the store returns the credential with its user):
// the edge calls it on every request that carries one. Unknown, expired
// and revoked credentials, and those of a disabled user, get one answer.
func (s *Service) Authenticate(ctx context.Context, req *pb.AuthenticateRequest) (*pb.AuthenticateResponse, error) {
	secret := req.GetSecret()
	var (
		p   *pb.Principal
		err error
	)
	switch {
	case strings.HasPrefix(secret, auth.SessionPrefix):
		sess, u, e := s.store.SessionByHash(ctx, auth.HashSecret(secret), s.clock())
		if err = e; err == nil && !u.Disabled {
			p = &pb.Principal{UserId: u.ID, Username: u.Username, Role: string(u.Role), SessionId: sess.ID}
		}
	case strings.HasPrefix(secret, auth.TokenPrefix):
		t, u, e := s.store.TokenByHash(ctx, auth.HashSecret(secret), s.clock())
		// A token without scopes would read as a browser session, with
		// every right of its user: it is refused, though none is made.
		if err = e; err == nil && !u.Disabled && len(t.Scopes) > 0 {
			p = &pb.Principal{UserId: u.ID, Username: u.Username, Role: string(u.Role)}
			for _, sc := range t.Scopes {
				p.Scopes = append(p.Scopes, string(sc))
			}
		}
	}
	if err != nil && !errors.Is(err, video.ErrNotFound) {
		return nil, rpc.Error(ctx, fmt.Errorf("authenticate: %w", err))
	}
	if p == nil {
		return nil, rpc.Error(ctx, errBadSecret)
	}
	return &pb.AuthenticateResponse{Principal: p}, nil
}

// GetSignInOptions tells a sign-in page what to offer.
func (s *Service) GetSignInOptions(context.Context, *pb.GetSignInOptionsRequest) (*pb.SignInOptions, error) {
	out := &pb.SignInOptions{SignUp: string(s.signUp)}
	if s.oidc != nil {
		out.OidcProvider = s.cfg.OIDC.Name
	}
	return out, nil
}
