package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

// userColumns is what userDest reads, in order, of users aliased u.
const userColumns = `u.id::text, u.username, coalesce(u.email, ''), u.role, u.disabled,
	u.storage_quota, u.daily_quota, u.created_at`

func userDest(u *account.User) []any {
	return []any{&u.ID, &u.Username, &u.Email, &u.Role, &u.Disabled, &u.StorageQuota, &u.DailyQuota, &u.CreatedAt}
}

// sessionColumns is what sessionDest reads, in order, of sessions aliased s.
const sessionColumns = `s.id::text, s.user_id::text, s.hash, s.user_agent, s.ip,
	s.created_at, s.last_seen_at, s.expires_at`

func sessionDest(s *account.Session) []any {
	return []any{&s.ID, &s.UserID, &s.Hash, &s.UserAgent, &s.IP, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt}
}

// tokenColumns is what scanToken reads, in order, of api_tokens aliased t.
const tokenColumns = `t.id::text, t.user_id::text, t.name, t.hash, t.scopes, t.created_at, t.last_used_at`

// scanToken reads a row of tokenColumns, then extra.
func scanToken(row pgx.Row, extra ...any) (account.Token, error) {
	var (
		t        account.Token
		scopes   []string
		lastUsed *time.Time
	)
	dest := append([]any{&t.ID, &t.UserID, &t.Name, &t.Hash, &scopes, &t.CreatedAt, &lastUsed}, extra...)
	if err := row.Scan(dest...); err != nil {
		return account.Token{}, err
	}
	t.Scopes = store.ScannedScopes(scopes)
	if lastUsed != nil {
		t.LastUsedAt = *lastUsed
	}
	return t, nil
}

// pgError is err's SQLSTATE and the constraint it names, when the server
// refused a statement.
func pgError(err error) (code, constraint string) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code, pgErr.ConstraintName
	}
	return "", ""
}

const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// refusal translates the server's refusal of a write of a credential: a
// user that does not exist is not found, and a duplicate key the caller's
// mistake.
func refusal(err error, what string) error {
	switch code, _ := pgError(err); code {
	case foreignKeyViolation:
		return video.ErrNotFound
	case uniqueViolation:
		return video.Invalid("%s already exists", what)
	}
	return err
}

// CreateUser implements [store.Accounts.CreateUser].
func (s *Store) CreateUser(ctx context.Context, u account.User, passwordHash string) (account.User, error) {
	u, err := store.NewUser(u, time.Now())
	if err != nil {
		return account.User{}, fmt.Errorf("create user: %w", err)
	}
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return insertUser(ctx, tx, u, passwordHash) }); err != nil {
		return account.User{}, fmt.Errorf("create user %q: %w", u.Username, err)
	}
	return u, nil
}

// insertUser inserts u, completed by store.NewUser, and lets an admin adopt
// the videos without an owner.
func insertUser(ctx context.Context, tx pgx.Tx, u account.User, passwordHash string) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO users (id, username, email, password_hash, role, disabled, storage_quota, daily_quota, created_at)
		VALUES ($1, $2, nullif($3, ''), $4, $5, $6, $7, $8, $9)`,
		u.ID, u.Username, u.Email, passwordHash, u.Role, u.Disabled, u.StorageQuota, u.DailyQuota, u.CreatedAt)
	switch code, constraint := pgError(err); {
	case code == uniqueViolation && constraint == "users_pkey":
		return video.Invalid("user %s already exists", u.ID)
	case code == uniqueViolation:
		return account.ErrTaken
	case err != nil:
		return err
	}
	if u.Role == auth.RoleAdmin {
		return adoptOwnerless(ctx, tx, u.ID)
	}
	return nil
}

// adoptOwnerless gives every video without an owner to the admin with id
// admin when they are the install's only admin: the first one, made or
// promoted in tx, takes over the videos of an install from before accounts.
// Admins made at once take turns on an advisory lock, so that each sees
// whether another has committed and exactly one adopts.
func adoptOwnerless(ctx context.Context, tx pgx.Tx, admin string) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(adoptLockKey)); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `
		UPDATE videos SET owner_id = $1, updated_at = now()
		WHERE owner_id IS NULL
		  AND NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin' AND id <> $1)`, admin)
	return err
}

// User implements [store.Accounts.User].
func (s *Store) User(ctx context.Context, id string) (account.User, error) {
	if !store.ValidID(id) {
		return account.User{}, fmt.Errorf("user %s: %w", id, video.ErrNotFound)
	}
	u, err := s.queryUser(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id)
	if err != nil {
		return account.User{}, fmt.Errorf("user %s: %w", id, err)
	}
	return u, nil
}

// UserByName implements [store.Accounts.UserByName].
func (s *Store) UserByName(ctx context.Context, username string) (account.User, error) {
	u, err := s.queryUser(ctx, `SELECT `+userColumns+` FROM users u WHERE lower(u.username) = $1`, store.FoldName(username))
	if err != nil {
		return account.User{}, fmt.Errorf("user %q: %w", username, err)
	}
	return u, nil
}

func (s *Store) queryUser(ctx context.Context, sql string, args ...any) (account.User, error) {
	var u account.User
	err := s.pool.QueryRow(ctx, sql, args...).Scan(userDest(&u)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return account.User{}, video.ErrNotFound
	}
	return u, err
}

// UserByLogin implements [store.Accounts.UserByLogin]. A username has no
// '@', so a login names one account at most; the username is preferred all
// the same.
func (s *Store) UserByLogin(ctx context.Context, login string) (account.User, string, error) {
	var (
		u    account.User
		hash string
	)
	err := s.pool.QueryRow(ctx, `
		SELECT `+userColumns+`, u.password_hash FROM users u
		WHERE lower(u.username) = $1 OR lower(u.email) = $1
		ORDER BY lower(u.username) = $1 DESC LIMIT 1`, store.FoldName(login)).
		Scan(append(userDest(&u), &hash)...)
	if errors.Is(err, pgx.ErrNoRows) {
		err = video.ErrNotFound
	}
	if err != nil {
		return account.User{}, "", fmt.Errorf("user %q: %w", login, err)
	}
	return u, hash, nil
}

// Users implements [store.Accounts.Users].
func (s *Store) Users(ctx context.Context, limit int, after string) ([]account.User, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+userColumns+` FROM users u WHERE lower(u.username) > $2
		ORDER BY lower(u.username) LIMIT $1`, limit, store.FoldName(after))
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (account.User, error) {
		var u account.User
		err := r.Scan(userDest(&u)...)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return users, nil
}

// UpdateUser implements [store.Accounts.UpdateUser]. A user made an admin
// when the install has no other adopts the videos without an owner, as
// the first admin made does.
func (s *Store) UpdateUser(ctx context.Context, id string, c account.Change) (account.User, error) {
	if err := store.CheckUserChange(c); err != nil {
		return account.User{}, fmt.Errorf("update user %s: %w", id, err)
	}
	if !store.ValidID(id) {
		return account.User{}, fmt.Errorf("update user %s: %w", id, video.ErrNotFound)
	}
	var u account.User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			UPDATE users u SET role = coalesce($2, u.role), disabled = coalesce($3, u.disabled),
				storage_quota = coalesce($4, u.storage_quota), daily_quota = coalesce($5, u.daily_quota)
			WHERE u.id = $1 RETURNING `+userColumns, id, c.Role, c.Disabled, c.StorageQuota, c.DailyQuota).
			Scan(userDest(&u)...)
		if errors.Is(err, pgx.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil || c.Role == nil || *c.Role != auth.RoleAdmin {
			return err
		}
		return adoptOwnerless(ctx, tx, id)
	})
	if err != nil {
		return account.User{}, fmt.Errorf("update user %s: %w", id, err)
	}
	return u, nil
}

// SetPassword implements [store.Accounts.SetPassword].
func (s *Store) SetPassword(ctx context.Context, id, passwordHash, keep string) error {
	if !store.ValidID(id) {
		return fmt.Errorf("set password of %s: %w", id, video.ErrNotFound)
	}
	var keepID *string // a keep that is no session's id keeps none
	if store.ValidID(keep) {
		keepID = &keep
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE users SET password_hash = $2 WHERE id = $1", id, passwordHash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return video.ErrNotFound
		}
		_, err = tx.Exec(ctx, `
			DELETE FROM sessions WHERE user_id = $1 AND ($2::uuid IS NULL OR id <> $2::uuid)`, id, keepID)
		return err
	})
	if err != nil {
		return fmt.Errorf("set password of %s: %w", id, err)
	}
	return nil
}

// CreateSession implements [store.Accounts.CreateSession].
func (s *Store) CreateSession(ctx context.Context, sess account.Session) error {
	sess, err := store.NewSession(sess, time.Now())
	if err == nil {
		_, err = s.pool.Exec(ctx, `
			INSERT INTO sessions (id, user_id, hash, user_agent, ip, created_at, last_seen_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			sess.ID, sess.UserID, sess.Hash, sess.UserAgent, sess.IP, sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt)
		err = refusal(err, "the session")
	}
	if err != nil {
		return fmt.Errorf("create session for user %s: %w", sess.UserID, err)
	}
	return nil
}

// SessionByHash implements [store.Accounts.SessionByHash].
func (s *Store) SessionByHash(ctx context.Context, hash string, now time.Time) (account.Session, account.User, error) {
	var (
		sess account.Session
		u    account.User
	)
	err := s.pool.QueryRow(ctx, `
		SELECT `+sessionColumns+`, `+userColumns+`
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.hash = $1 AND s.expires_at > $2`, hash, now).
		Scan(append(sessionDest(&sess), userDest(&u)...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		err = video.ErrNotFound
	}
	if err == nil && store.Used(sess.LastSeenAt, now) {
		sess.LastSeenAt, err = s.recordUse(ctx, "UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2", sess.ID, sess.LastSeenAt, now)
	}
	if err != nil {
		return account.Session{}, account.User{}, fmt.Errorf("session: %w", err)
	}
	return sess, u, nil
}

// recordUse runs sql, an UPDATE of the last use of the credential with id
// to now that keeps a later one, and returns the last use as now stored.
func (s *Store) recordUse(ctx context.Context, sql, id string, last, now time.Time) (time.Time, error) {
	now = store.Stored(now, now)
	tag, err := s.pool.Exec(ctx, sql, id, now)
	if err != nil {
		return time.Time{}, err
	}
	if tag.RowsAffected() == 0 {
		return last, nil
	}
	return now, nil
}

// Sessions implements [store.Accounts.Sessions].
func (s *Store) Sessions(ctx context.Context, userID string) ([]account.Session, error) {
	if !store.ValidID(userID) {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+sessionColumns+` FROM sessions s
		WHERE s.user_id = $1 AND s.expires_at > $2
		ORDER BY s.last_seen_at DESC, s.created_at DESC, s.id DESC`, userID, time.Now())
	if err != nil {
		return nil, fmt.Errorf("sessions of %s: %w", userID, err)
	}
	sessions, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (account.Session, error) {
		var sess account.Session
		err := r.Scan(sessionDest(&sess)...)
		return sess, err
	})
	if err != nil {
		return nil, fmt.Errorf("sessions of %s: %w", userID, err)
	}
	return sessions, nil
}

// DeleteSession implements [store.Accounts.DeleteSession].
func (s *Store) DeleteSession(ctx context.Context, userID, id string) error {
	if err := s.deleteOwned(ctx, "DELETE FROM sessions WHERE user_id = $1 AND id = $2", userID, id); err != nil {
		return fmt.Errorf("delete session %s of %s: %w", id, userID, err)
	}
	return nil
}

// deleteOwned runs sql, a DELETE of the credential with id of the user with
// userID, giving ErrNotFound when it deleted nothing.
func (s *Store) deleteOwned(ctx context.Context, sql, userID, id string) error {
	if !store.ValidID(userID) || !store.ValidID(id) {
		return video.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx, sql, userID, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return video.ErrNotFound
	}
	return nil
}

// CreateToken implements [store.Accounts.CreateToken].
func (s *Store) CreateToken(ctx context.Context, t account.Token) error {
	t, err := store.NewToken(t, time.Now())
	if err == nil {
		var lastUsed *time.Time
		if !t.LastUsedAt.IsZero() {
			lastUsed = &t.LastUsedAt
		}
		_, err = s.pool.Exec(ctx, `
			INSERT INTO api_tokens (id, user_id, name, hash, scopes, created_at, last_used_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			t.ID, t.UserID, t.Name, t.Hash, store.ScopeNames(t.Scopes), t.CreatedAt, lastUsed)
		err = refusal(err, "the token")
	}
	if err != nil {
		return fmt.Errorf("create token for user %s: %w", t.UserID, err)
	}
	return nil
}

// TokenByHash implements [store.Accounts.TokenByHash].
func (s *Store) TokenByHash(ctx context.Context, hash string, now time.Time) (account.Token, account.User, error) {
	var u account.User
	t, err := scanToken(s.pool.QueryRow(ctx, `
		SELECT `+tokenColumns+`, `+userColumns+`
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.hash = $1`, hash), userDest(&u)...)
	if errors.Is(err, pgx.ErrNoRows) {
		err = video.ErrNotFound
	}
	if err == nil && store.Used(t.LastUsedAt, now) {
		t.LastUsedAt, err = s.recordUse(ctx, `
			UPDATE api_tokens SET last_used_at = $2
			WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)`, t.ID, t.LastUsedAt, now)
	}
	if err != nil {
		return account.Token{}, account.User{}, fmt.Errorf("token: %w", err)
	}
	return t, u, nil
}

// Tokens implements [store.Accounts.Tokens].
func (s *Store) Tokens(ctx context.Context, userID string) ([]account.Token, error) {
	if !store.ValidID(userID) {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+tokenColumns+` FROM api_tokens t WHERE t.user_id = $1
		ORDER BY t.created_at DESC, t.id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("tokens of %s: %w", userID, err)
	}
	tokens, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (account.Token, error) { return scanToken(r) })
	if err != nil {
		return nil, fmt.Errorf("tokens of %s: %w", userID, err)
	}
	return tokens, nil
}

// DeleteToken implements [store.Accounts.DeleteToken].
func (s *Store) DeleteToken(ctx context.Context, userID, id string) error {
	if err := s.deleteOwned(ctx, "DELETE FROM api_tokens WHERE user_id = $1 AND id = $2", userID, id); err != nil {
		return fmt.Errorf("delete token %s of %s: %w", id, userID, err)
	}
	return nil
}

// CreateInvite implements [store.Accounts.CreateInvite].
func (s *Store) CreateInvite(ctx context.Context, inv account.Invite) error {
	inv, err := store.NewInvite(inv, time.Now())
	if err == nil {
		_, err = s.pool.Exec(ctx, `
			INSERT INTO invites (hash, created_by, created_at, expires_at)
			VALUES ($1, nullif($2, '')::uuid, $3, $4)`, inv.Hash, inv.CreatedBy, inv.CreatedAt, inv.ExpiresAt)
		err = refusal(err, "the invitation")
	}
	if err != nil {
		return fmt.Errorf("create invitation: %w", err)
	}
	return nil
}

// UseInvite implements [store.Accounts.UseInvite]. The invitation is spent
// first: its row stays locked until the transaction ends, so that another
// use of it waits and then finds it spent, or finds it unspent again if
// this one fails (a username taken, say).
func (s *Store) UseInvite(ctx context.Context, hash string, now time.Time, u account.User, passwordHash string) (account.User, error) {
	u, err := store.NewUser(u, now)
	if err != nil {
		return account.User{}, fmt.Errorf("sign up by invitation: %w", err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE invites SET used_at = $2
			WHERE hash = $1 AND used_at IS NULL AND expires_at > $2`, hash, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return video.ErrNotFound
		}
		if err := insertUser(ctx, tx, u, passwordHash); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE invites SET used_by = $2 WHERE hash = $1", hash, u.ID)
		return err
	})
	if err != nil {
		return account.User{}, fmt.Errorf("sign up %q by invitation: %w", u.Username, err)
	}
	return u, nil
}

// LinkIdentity implements [store.Accounts.LinkIdentity].
func (s *Store) LinkIdentity(ctx context.Context, id account.Identity) error {
	err := store.CheckIdentity(id)
	if err == nil {
		_, err = s.pool.Exec(ctx, `
			INSERT INTO identities (issuer, subject, user_id) VALUES ($1, $2, $3)
			ON CONFLICT (issuer, subject) DO NOTHING`, id.Issuer, id.Subject, id.UserID)
		err = refusal(err, "the identity")
	}
	if err != nil {
		return fmt.Errorf("link %s at %s to user %s: %w", id.Subject, id.Issuer, id.UserID, err)
	}
	return nil
}

// UserByIdentity implements [store.Accounts.UserByIdentity].
func (s *Store) UserByIdentity(ctx context.Context, issuer, subject string) (account.User, error) {
	u, err := s.queryUser(ctx, `
		SELECT `+userColumns+` FROM identities i JOIN users u ON u.id = i.user_id
		WHERE i.issuer = $1 AND i.subject = $2`, issuer, subject)
	if err != nil {
		return account.User{}, fmt.Errorf("user of %s at %s: %w", subject, issuer, err)
	}
	return u, nil
}

// SignInFailures implements [store.Accounts.SignInFailures].
func (s *Store) SignInFailures(ctx context.Context, key string) (int, time.Time, error) {
	var (
		n    int
		last time.Time
	)
	err := s.pool.QueryRow(ctx, "SELECT failures, last_at FROM sign_in_failures WHERE key = $1", key).Scan(&n, &last)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("sign-in failures of %q: %w", key, err)
	}
	return n, last, nil
}

// RecordSignInFailure implements [store.Accounts.RecordSignInFailure].
func (s *Store) RecordSignInFailure(ctx context.Context, key string, now time.Time) error {
	if _, err := s.pool.Exec(ctx, `
		INSERT INTO sign_in_failures AS f (key, failures, last_at) VALUES ($1, 1, $2)
		ON CONFLICT (key) DO UPDATE SET failures = f.failures + 1, last_at = greatest(f.last_at, excluded.last_at)`,
		key, now); err != nil {
		return fmt.Errorf("record sign-in failure of %q: %w", key, err)
	}
	return nil
}

// ClearSignInFailures implements [store.Accounts.ClearSignInFailures].
func (s *Store) ClearSignInFailures(ctx context.Context, key string) error {
	if _, err := s.pool.Exec(ctx, "DELETE FROM sign_in_failures WHERE key = $1", key); err != nil {
		return fmt.Errorf("clear sign-in failures of %q: %w", key, err)
	}
	return nil
}
