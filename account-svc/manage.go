package accountsvc

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/video"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// GetUser returns a user by username, or the caller when none is named;
// the e-mail address and quotas go only to the user and admins.
func (s *Service) GetUser(ctx context.Context, req *pb.GetUserRequest) (*pb.User, error) {
	p := auth.FromContext(ctx)
	var (
		u   account.User
		err error
	)
	if name := strings.TrimSpace(req.GetUsername()); name != "" {
		u, err = s.store.UserByName(ctx, strings.ToLower(name))
	} else if p.Anonymous() {
		err = video.ErrUnauthenticated
	} else {
		u, err = s.store.User(ctx, p.UserID)
	}
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	out, err := s.userProto(ctx, u, seesPrivate(p, u))
	return out, rpc.Error(ctx, err)
}

// ChangePassword replaces the caller's password, given the current one,
// and ends every other session of theirs: whoever may have learnt the old
// password is signed out. Wrong current passwords count against the
// username as failed sign-ins do, so a stolen session cannot guess the
// password faster than the sign-in page lets anyone.
func (s *Service) ChangePassword(ctx context.Context, req *pb.ChangePasswordRequest) (*pb.ChangePasswordResponse, error) {
	p := auth.FromContext(ctx)
	if err := managesOwnAccount(p); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if err := account.CheckPassword(req.GetNewPassword()); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	u, err := s.store.User(ctx, p.UserID)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	_, hash, err := s.store.UserByLogin(ctx, u.Username)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if hash == "" {
		return nil, status.Error(codes.FailedPrecondition, "this account signs in through its OpenID provider and has no password to change")
	}
	now := s.now()
	keys := signInKeys("", u.Username)
	wait, err := s.wait(ctx, keys, now)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if wait > 0 {
		return nil, throttled(wait, now)
	}
	if len(req.GetCurrentPassword()) > auth.MaxPasswordBytes {
		return nil, status.Error(codes.InvalidArgument, "the current password is wrong")
	}
	ok, err := auth.CheckPassword(hash, req.GetCurrentPassword())
	if err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("check password of %s: %w", u.ID, err))
	}
	if !ok {
		if err := s.recordFailure(ctx, keys, now); err != nil {
			return nil, rpc.Error(ctx, err)
		}
		return nil, status.Error(codes.InvalidArgument, "the current password is wrong")
	}
	newHash, err := auth.HashPassword(req.GetNewPassword())
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if err := s.store.SetPassword(ctx, u.ID, newHash, p.SessionID); err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("change password of %s: %w", u.ID, err))
	}
	return &pb.ChangePasswordResponse{}, rpc.Error(ctx, s.clearFailures(ctx, keys))
}

// ListSessions lists the caller's sessions, marking the one of this call.
func (s *Service) ListSessions(ctx context.Context, _ *pb.ListSessionsRequest) (*pb.ListSessionsResponse, error) {
	p := auth.FromContext(ctx)
	if err := managesOwnAccount(p); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	sessions, err := s.store.Sessions(ctx, p.UserID)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	out := &pb.ListSessionsResponse{}
	for _, sess := range sessions {
		out.Sessions = append(out.Sessions, sessionProto(sess, p.SessionID))
	}
	return out, nil
}

// RevokeSession ends one of the caller's sessions, this one included.
func (s *Service) RevokeSession(ctx context.Context, req *pb.RevokeSessionRequest) (*pb.RevokeSessionResponse, error) {
	if err := revokeOwn(ctx, "session", req.GetId(), s.store.DeleteSession); err != nil {
		return nil, err
	}
	return &pb.RevokeSessionResponse{}, nil
}

// revokeOwn ends the caller's credential of the kind what with id through
// del, which finds only the caller's own.
func revokeOwn(ctx context.Context, what, id string, del func(ctx context.Context, userID, id string) error) error {
	p := auth.FromContext(ctx)
	if err := managesOwnAccount(p); err != nil {
		return rpc.Error(ctx, err)
	}
	if err := checkID(what, id); err != nil {
		return rpc.Error(ctx, err)
	}
	return rpc.Error(ctx, del(ctx, p.UserID, id))
}

// CreateToken makes a personal API token with the scopes asked for. The
// admin scope is for the users who have admin or moderator rights to use.
func (s *Service) CreateToken(ctx context.Context, req *pb.CreateTokenRequest) (*pb.CreateTokenResponse, error) {
	p := auth.FromContext(ctx)
	if err := managesOwnAccount(p); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	name := strings.TrimSpace(req.GetName())
	if n := utf8.RuneCountInString(name); n == 0 || n > account.MaxTokenName {
		return nil, rpc.Error(ctx, video.Invalid("a token's name must be 1 to %d characters", account.MaxTokenName))
	}
	scopes, err := auth.ParseScopes(req.GetScopes())
	if err != nil {
		return nil, rpc.Error(ctx, video.Invalid("%s", err.Error()))
	}
	if slices.Contains(scopes, auth.ScopeAdmin) && p.Role != auth.RoleAdmin && p.Role != auth.RoleModerator {
		return nil, rpc.Error(ctx, video.Invalid("the admin scope is for moderators and admins"))
	}
	existing, err := s.store.Tokens(ctx, p.UserID)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if len(existing) >= maxTokensPerUser {
		return nil, status.Errorf(codes.FailedPrecondition, "an account has at most %d API tokens: revoke one first", maxTokensPerUser)
	}
	secret, hash, err := auth.NewSecret(auth.TokenPrefix)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	t := account.Token{ID: uuid.NewString(), UserID: p.UserID, Name: name, Hash: hash, Scopes: scopes, CreatedAt: s.clock()}
	if err := s.store.CreateToken(ctx, t); err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("create token: %w", err))
	}
	return &pb.CreateTokenResponse{Secret: secret, Token: tokenProto(t)}, nil
}

// ListTokens lists the caller's API tokens, without their secrets.
func (s *Service) ListTokens(ctx context.Context, _ *pb.ListTokensRequest) (*pb.ListTokensResponse, error) {
	p := auth.FromContext(ctx)
	if err := managesOwnAccount(p); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	tokens, err := s.store.Tokens(ctx, p.UserID)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	out := &pb.ListTokensResponse{}
	for _, t := range tokens {
		out.Tokens = append(out.Tokens, tokenProto(t))
	}
	return out, nil
}

// RevokeToken revokes one of the caller's API tokens.
func (s *Service) RevokeToken(ctx context.Context, req *pb.RevokeTokenRequest) (*pb.RevokeTokenResponse, error) {
	if err := revokeOwn(ctx, "token", req.GetId(), s.store.DeleteToken); err != nil {
		return nil, err
	}
	return &pb.RevokeTokenResponse{}, nil
}

// CreateInvite makes a one-use invitation to sign up, valid for the
// operator's invitation lifetime.
func (s *Service) CreateInvite(ctx context.Context, _ *pb.CreateInviteRequest) (*pb.CreateInviteResponse, error) {
	p := auth.FromContext(ctx)
	if err := administers(p); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	code, hash, err := auth.NewSecret(auth.InvitePrefix)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	now := s.clock()
	inv := account.Invite{Hash: hash, CreatedBy: p.UserID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.InviteTTL)}
	if err := s.store.CreateInvite(ctx, inv); err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("create invite: %w", err))
	}
	return &pb.CreateInviteResponse{Code: code, ExpiresAt: timestamppb.New(inv.ExpiresAt)}, nil
}
