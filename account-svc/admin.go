package accountsvc

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/video"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// errSelf refuses an admin's change that would take their own rights away:
// it could leave the install without an admin. Another admin may do it.
var errSelf = status.Error(codes.FailedPrecondition, "an admin cannot lower their own role or disable themselves; another admin can")

// CreateUser makes an account with any role, whatever the sign-up mode.
func (s *Service) CreateUser(ctx context.Context, req *pb.CreateUserRequest) (*pb.User, error) {
	if err := administers(auth.FromContext(ctx)); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	role := auth.RoleUser
	if req.GetRole() != "" {
		r, err := auth.ParseRole(req.GetRole())
		if err != nil {
			return nil, rpc.Error(ctx, video.Invalid("%s", err.Error()))
		}
		role = r
	}
	u, hash, err := NewUser(req.GetUsername(), req.GetEmail(), req.GetPassword(), role)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	u, err = s.store.CreateUser(ctx, u, hash)
	if err != nil {
		return nil, rpc.Error(ctx, taken(err))
	}
	out, err := s.userProto(ctx, u, true)
	return out, rpc.Error(ctx, err)
}

// UpdateUser changes a user's role, whether they are disabled, and their
// quotas. Disabling a user stops their sessions and tokens at once, since
// Authenticate refuses the credentials of a disabled user.
func (s *Service) UpdateUser(ctx context.Context, req *pb.UpdateUserRequest) (*pb.User, error) {
	p := auth.FromContext(ctx)
	if err := administers(p); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if err := checkID("user", req.GetId()); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	change, err := ParseChange(req.Role, req.Disabled, req.StorageQuotaBytes, req.DailyUploadQuotaBytes)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	if req.GetId() == p.UserID && ((change.Role != nil && *change.Role != auth.RoleAdmin) || (change.Disabled != nil && *change.Disabled)) {
		return nil, errSelf
	}
	u, err := s.store.UpdateUser(ctx, req.GetId(), change)
	if err != nil {
		return nil, rpc.Error(ctx, err)
	}
	out, err := s.userProto(ctx, u, true)
	return out, rpc.Error(ctx, err)
}

// ParseChange reads an admin's change to a user (nil leaves a field as it
// is): a role's name, and quotas in bytes where 0 takes the operator's
// default and -1 lifts the bound.
func ParseChange(role *string, disabled *bool, storageQuota, dailyQuota *int64) (account.Change, error) {
	var c account.Change
	if role != nil {
		r, err := auth.ParseRole(*role)
		if err != nil {
			return c, video.Invalid("%s", err.Error())
		}
		c.Role = &r
	}
	for _, q := range []struct {
		name  string
		bytes *int64
	}{{"storage", storageQuota}, {"daily upload", dailyQuota}} {
		if q.bytes != nil && *q.bytes < account.Unlimited {
			return c, video.Invalid("the %s quota must be a number of bytes, 0 for the default or -1 for no limit", q.name)
		}
	}
	c.Disabled, c.StorageQuota, c.DailyQuota = disabled, storageQuota, dailyQuota
	return c, nil
}

// ListUsers lists users by username, a page at a time; the cursor is the
// last username of the page before.
func (s *Service) ListUsers(ctx context.Context, req *pb.ListUsersRequest) (*pb.ListUsersResponse, error) {
	p := auth.FromContext(ctx)
	if err := administers(p); err != nil {
		return nil, rpc.Error(ctx, err)
	}
	size := defaultUsersPage
	if req.PageSize != nil {
		size = int(req.GetPageSize())
		if size < 1 || size > maxUsersPage {
			return nil, rpc.Error(ctx, video.Invalid("page_size must be 1 to %d", maxUsersPage))
		}
	}
	users, err := s.store.Users(ctx, size+1, strings.ToLower(req.GetCursor()))
	if err != nil {
		return nil, rpc.Error(ctx, fmt.Errorf("list users: %w", err))
	}
	out := &pb.ListUsersResponse{}
	if len(users) > size {
		users = users[:size]
		out.NextCursor = users[size-1].Username
	}
	for _, u := range users {
		// The list shows who is who; a user's quotas and usage are one
		// GetUser away, which keeps a page to one query.
		out.Users = append(out.Users, userFields(u, true))
	}
	return out, nil
}
