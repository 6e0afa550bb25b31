// Package accountsvc is the account service: it keeps CloudFlix's users and
// their credentials (sign-up, sign-in with a password or an OpenID
// provider, browser sessions, personal API tokens, invitations) and lets
// admins manage users. The edge asks it to turn a cookie or a bearer token
// into a principal; every other call acts for the signed principal the
// call carries, and the rules of who may do what are in rules.go beside
// the data they guard. It never keeps a secret in the clear: passwords are
// argon2id hashes, sessions, tokens and invitations SHA-256 hashes, and a
// secret is shown once, in the answer that made it. It never touches
// videos beyond reading a user's upload usage for their quota.
package accountsvc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// Store is the metadata this service reads and writes: the accounts, and
// what a user's videos take for their quota.
type Store interface {
	store.Accounts
	UploadUsage(ctx context.Context, owner string, since time.Time) (stored, uploaded int64, err error)
}

// Bounds of what a caller sends that the service keeps.
const (
	maxUserAgentBytes = 512
	maxIPBytes        = 64
	maxTokensPerUser  = 100
	defaultUsersPage  = 50
	maxUsersPage      = 200
)

// Service implements the AccountService gRPC API.
type Service struct {
	pb.UnimplementedAccountServiceServer
	store   Store
	signUp  account.SignUpMode
	cfg     config.Account
	oidc    *oidcClient
	now     func() time.Time
	signIns *prometheus.CounterVec
	// checkPassword and checkNobody are auth's: every refusal of a sign-in
	// spends one of them, so that an unknown login costs what a wrong
	// password does (a test counts them instead of timing them).
	checkPassword func(hash, pw string) (bool, error)
	checkNobody   func(pw string)
}

// New returns the service for cfg. key is the install's internal key, from
// which the key that signs OpenID sign-in state is derived.
func New(db Store, cfg config.Account, key rpc.Key, reg prometheus.Registerer) (*Service, error) {
	mode, err := account.ParseSignUpMode(cfg.SignUp)
	if err != nil {
		return nil, fmt.Errorf("config: CLOUDFLIX_SIGNUP: %w", err)
	}
	if cfg.SessionTTL <= 0 || cfg.InviteTTL <= 0 {
		return nil, errors.New("config: CLOUDFLIX_SESSION_TTL and CLOUDFLIX_INVITE_TTL must be positive")
	}
	if cfg.OIDC.Issuer != "" && cfg.OIDC.ClientID == "" {
		return nil, errors.New("config: CLOUDFLIX_OIDC_CLIENT_ID must be set with CLOUDFLIX_OIDC_ISSUER")
	}
	s := &Service{store: db, signUp: mode, cfg: cfg, now: time.Now,
		checkPassword: auth.CheckPassword, checkNobody: auth.CheckNobody,
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloudflix_signins_total",
			Help: "Sign-in attempts by method (password, oidc, signup) and outcome (ok, refused, throttled).",
		}, []string{"method", "outcome"}),
	}
	if cfg.OIDC.Issuer != "" {
		s.oidc = newOIDCClient(cfg.OIDC, key.Derive("oidc"))
	}
	if reg != nil {
		reg.MustRegister(s.signIns)
	}
	return s, nil
}

// clock is the time of a request as the store keeps it.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// NewUser checks what a person typed for a new account (the same rules
// for sign-up, an admin's form and the command line) and returns the user
// to store with their password's hash.
func NewUser(username, email, password string, role auth.Role) (account.User, string, error) {
	name, err := account.NormalizeUsername(username)
	if err != nil {
		return account.User{}, "", err
	}
	mail, err := account.NormalizeEmail(email)
	if err != nil {
		return account.User{}, "", err
	}
	if err := account.CheckPassword(password); err != nil {
		return account.User{}, "", err
	}
	if role == "" {
		role = auth.RoleUser
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return account.User{}, "", err
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return account.User{}, "", err
	}
	return account.User{ID: id.String(), Username: name, Email: mail, Role: role}, hash, nil
}

// taken explains an account.ErrTaken from a store.
func taken(err error) error {
	if errors.Is(err, account.ErrTaken) {
		return fmt.Errorf("that username or e-mail address is %w by another account", account.ErrTaken)
	}
	return err
}

// openSession signs u in from client and returns the answer with the new
// session's secret, the one time it is shown.
func (s *Service) openSession(ctx context.Context, u account.User, client *pb.Client) (*pb.SignInResponse, error) {
	secret, hash, err := auth.NewSecret(auth.SessionPrefix)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	sess := account.Session{
		ID:         uuid.NewString(),
		UserID:     u.ID,
		Hash:       hash,
		UserAgent:  truncate(client.GetUserAgent(), maxUserAgentBytes),
		IP:         truncate(client.GetIp(), maxIPBytes),
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(s.cfg.SessionTTL),
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return nil, fmt.Errorf("open session of %s: %w", u.ID, err)
	}
	resp := &pb.SignInResponse{SessionToken: secret, Session: sessionProto(sess, sess.ID)}
	resp.User, err = s.userProto(ctx, u, true)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// userProto is u on the wire, with what only the user and admins see when
// private is true: then also the effective quotas and the usage.
func (s *Service) userProto(ctx context.Context, u account.User, private bool) (*pb.User, error) {
	out := userFields(u, private)
	if !private {
		return out, nil
	}
	storage, daily := u.Effective(s.cfg.Quotas.Storage, s.cfg.Quotas.Daily)
	stored, uploaded, err := s.store.UploadUsage(ctx, u.ID, s.now().Add(-24*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("upload usage of %s: %w", u.ID, err)
	}
	out.Quota = &pb.Quota{StorageBytes: storage, DailyUploadBytes: daily, StoredBytes: stored, UploadedTodayBytes: uploaded}
	return out, nil
}

// userFields is u's own fields on the wire, the private ones only when
// private is true.
func userFields(u account.User, private bool) *pb.User {
	out := &pb.User{Id: u.ID, Username: u.Username, Role: string(u.Role)}
	if !u.CreatedAt.IsZero() {
		out.CreatedAt = timestamppb.New(u.CreatedAt)
	}
	if private {
		out.Email, out.Disabled = u.Email, u.Disabled
	}
	return out
}

func sessionProto(s account.Session, current string) *pb.Session {
	return &pb.Session{
		Id:         s.ID,
		UserAgent:  s.UserAgent,
		Ip:         s.IP,
		CreatedAt:  timestamppb.New(s.CreatedAt),
		LastSeenAt: timestamppb.New(s.LastSeenAt),
		ExpiresAt:  timestamppb.New(s.ExpiresAt),
		Current:    current != "" && s.ID == current,
	}
}

func tokenProto(t account.Token) *pb.Token {
	out := &pb.Token{Id: t.ID, Name: t.Name, CreatedAt: timestamppb.New(t.CreatedAt)}
	for _, sc := range t.Scopes {
		out.Scopes = append(out.Scopes, string(sc))
	}
	if !t.LastUsedAt.IsZero() {
		out.LastUsedAt = timestamppb.New(t.LastUsedAt)
	}
	return out
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// checkID refuses an id that cannot name anything before a store is
// asked.
func checkID(what, id string) error {
	if !store.ValidID(id) {
		return fmt.Errorf("%s %q: %w", what, id, video.ErrNotFound)
	}
	return nil
}

// normalizeLogin is how a typed login is looked up and counted: usernames
// and e-mail addresses are unique whatever their case.
func normalizeLogin(login string) string { return strings.ToLower(strings.TrimSpace(login)) }
