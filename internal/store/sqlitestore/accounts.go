package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

// userColumns is what a userRow reads, in order, of users, by the table's
// name: SQLite's RETURNING takes no alias.
const userColumns = `users.id, users.username, coalesce(users.email, ''), users.role, users.disabled,
	users.storage_quota, users.daily_quota, users.created_at`

// userRow is a user as a row of userColumns is scanned: times are Unix
// microseconds in this schema.
type userRow struct {
	u         account.User
	createdAt int64
}

func (r *userRow) dest() []any {
	return []any{&r.u.ID, &r.u.Username, &r.u.Email, &r.u.Role, &r.u.Disabled,
		&r.u.StorageQuota, &r.u.DailyQuota, &r.createdAt}
}

func (r *userRow) user() account.User {
	r.u.CreatedAt = fromUnixMicros(r.createdAt)
	return r.u
}

// sessionColumns is what a sessionRow reads, in order, of sessions aliased s.
const sessionColumns = `s.id, s.user_id, s.hash, s.user_agent, s.ip, s.created_at, s.last_seen_at, s.expires_at`

type sessionRow struct {
	s                              account.Session
	createdAt, lastSeen, expiresAt int64
}

func (r *sessionRow) dest() []any {
	return []any{&r.s.ID, &r.s.UserID, &r.s.Hash, &r.s.UserAgent, &r.s.IP, &r.createdAt, &r.lastSeen, &r.expiresAt}
}

func (r *sessionRow) session() account.Session {
	r.s.CreatedAt, r.s.LastSeenAt, r.s.ExpiresAt = fromUnixMicros(r.createdAt), fromUnixMicros(r.lastSeen), fromUnixMicros(r.expiresAt)
	return r.s
}

// tokenColumns is what a tokenRow reads, in order, of api_tokens aliased t.
const tokenColumns = `t.id, t.user_id, t.name, t.hash, t.scopes, t.created_at, t.last_used_at`

type tokenRow struct {
	t         account.Token
	scopes    []byte
	createdAt int64
	lastUsed  sql.NullInt64
}

func (r *tokenRow) dest() []any {
	return []any{&r.t.ID, &r.t.UserID, &r.t.Name, &r.t.Hash, &r.scopes, &r.createdAt, &r.lastUsed}
}

func (r *tokenRow) token() (account.Token, error) {
	var names []string
	if err := json.Unmarshal(r.scopes, &names); err != nil {
		return account.Token{}, fmt.Errorf("scopes of token %s: %w", r.t.ID, err)
	}
	r.t.Scopes = store.ScannedScopes(names)
	r.t.CreatedAt = fromUnixMicros(r.createdAt)
	if r.lastUsed.Valid {
		r.t.LastUsedAt = fromUnixMicros(r.lastUsed.Int64)
	}
	return r.t, nil
}

// refusal translates SQLite's refusal of a write of a credential: a user
// that does not exist is not found, and a duplicate key the caller's
// mistake.
func refusal(err error, what string) error {
	switch {
	case resultCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return video.ErrNotFound
	case isUniqueViolation(err):
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
	err = s.write(ctx, func(tx *sql.Tx, now int64) error { return insertUser(ctx, tx, now, u, passwordHash) })
	if err != nil {
		return account.User{}, fmt.Errorf("create user %q: %w", u.Username, err)
	}
	return u, nil
}

// insertUser inserts u, completed by store.NewUser, and lets an admin adopt
// the videos without an owner.
func insertUser(ctx context.Context, tx *sql.Tx, now int64, u account.User, passwordHash string) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO users (id, username, email, password_hash, role, disabled, storage_quota, daily_quota, created_at)
		VALUES (?, ?, nullif(?, ''), ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Username, u.Email, passwordHash, u.Role, u.Disabled, u.StorageQuota, u.DailyQuota, u.CreatedAt.UnixMicro())
	switch {
	case resultCode(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return video.Invalid("user %s already exists", u.ID)
	case isUniqueViolation(err):
		return account.ErrTaken
	case err != nil:
		return err
	}
	if u.Role == auth.RoleAdmin {
		return adoptOwnerless(ctx, tx, now, u.ID)
	}
	return nil
}

// adoptOwnerless gives every video without an owner to the admin with id
// admin when they are the install's only admin: the first one, made or
// promoted in tx, takes over the videos of an install from before accounts.
// Write transactions run one at a time, so admins made at once cannot both
// be the first.
func adoptOwnerless(ctx context.Context, tx *sql.Tx, now int64, admin string) error {
	_, err := tx.ExecContext(ctx, `
		UPDATE videos SET owner_id = ?1, updated_at = ?2
		WHERE owner_id IS NULL
		  AND NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin' AND id <> ?1)`, admin, now)
	return err
}

// User implements [store.Accounts.User].
func (s *Store) User(ctx context.Context, id string) (account.User, error) {
	if !store.ValidID(id) {
		return account.User{}, fmt.Errorf("user %s: %w", id, video.ErrNotFound)
	}
	u, err := s.queryUser(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id)
	if err != nil {
		return account.User{}, fmt.Errorf("user %s: %w", id, err)
	}
	return u, nil
}

// UserByName implements [store.Accounts.UserByName].
func (s *Store) UserByName(ctx context.Context, username string) (account.User, error) {
	u, err := s.queryUser(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, store.FoldName(username))
	if err != nil {
		return account.User{}, fmt.Errorf("user %q: %w", username, err)
	}
	return u, nil
}

func (s *Store) queryUser(ctx context.Context, query string, args ...any) (account.User, error) {
	var r userRow
	err := s.r.QueryRowContext(ctx, query, args...).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return account.User{}, video.ErrNotFound
	}
	if err != nil {
		return account.User{}, err
	}
	return r.user(), nil
}

// UserByLogin implements [store.Accounts.UserByLogin]. A username has no
// '@', so a login names one account at most; the username is preferred all
// the same.
func (s *Store) UserByLogin(ctx context.Context, login string) (account.User, string, error) {
	var (
		r    userRow
		hash string
	)
	err := s.r.QueryRowContext(ctx, `
		SELECT `+userColumns+`, password_hash FROM users
		WHERE username = ?1 OR email = ?1
		ORDER BY username = ?1 DESC LIMIT 1`, store.FoldName(login)).
		Scan(append(r.dest(), &hash)...)
	if errors.Is(err, sql.ErrNoRows) {
		err = video.ErrNotFound
	}
	if err != nil {
		return account.User{}, "", fmt.Errorf("user %q: %w", login, err)
	}
	return r.user(), hash, nil
}

// Users implements [store.Accounts.Users].
func (s *Store) Users(ctx context.Context, limit int, after string) ([]account.User, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `
		SELECT `+userColumns+` FROM users WHERE username > ?2
		ORDER BY username LIMIT ?1`, limit, store.FoldName(after))
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	defer rows.Close()
	var users []account.User
	for rows.Next() {
		var r userRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		users = append(users, r.user())
	}
	if err := rows.Err(); err != nil {
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
	var r userRow
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		err := tx.QueryRowContext(ctx, `
			UPDATE users SET role = coalesce(?2, role), disabled = coalesce(?3, disabled),
				storage_quota = coalesce(?4, storage_quota), daily_quota = coalesce(?5, daily_quota)
			WHERE id = ?1 RETURNING `+userColumns, id, c.Role, c.Disabled, c.StorageQuota, c.DailyQuota).
			Scan(r.dest()...)
		if errors.Is(err, sql.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil || c.Role == nil || *c.Role != auth.RoleAdmin {
			return err
		}
		return adoptOwnerless(ctx, tx, now, id)
	})
	if err != nil {
		return account.User{}, fmt.Errorf("update user %s: %w", id, err)
	}
	return r.user(), nil
}

// SetPassword implements [store.Accounts.SetPassword].
func (s *Store) SetPassword(ctx context.Context, id, passwordHash, keep string) error {
	if !store.ValidID(id) {
		return fmt.Errorf("set password of %s: %w", id, video.ErrNotFound)
	}
	err := s.write(ctx, func(tx *sql.Tx, _ int64) error {
		res, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = ?2 WHERE id = ?1", id, passwordHash)
		if err := changed(res, err, video.ErrNotFound); err != nil {
			return err
		}
		// A keep that is no session's id keeps none.
		_, err = tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?1 AND id <> ?2", id, keep)
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
		err = s.write(ctx, func(tx *sql.Tx, _ int64) error {
			_, err := tx.ExecContext(ctx, `
				INSERT INTO sessions (id, user_id, hash, user_agent, ip, created_at, last_seen_at, expires_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				sess.ID, sess.UserID, sess.Hash, sess.UserAgent, sess.IP,
				sess.CreatedAt.UnixMicro(), sess.LastSeenAt.UnixMicro(), sess.ExpiresAt.UnixMicro())
			return refusal(err, "the session")
		})
	}
	if err != nil {
		return fmt.Errorf("create session for user %s: %w", sess.UserID, err)
	}
	return nil
}

// SessionByHash implements [store.Accounts.SessionByHash].
func (s *Store) SessionByHash(ctx context.Context, hash string, now time.Time) (account.Session, account.User, error) {
	var (
		sr   sessionRow
		ur   userRow
		sess account.Session
	)
	err := s.r.QueryRowContext(ctx, `
		SELECT `+sessionColumns+`, `+userColumns+`
		FROM sessions s JOIN users ON users.id = s.user_id
		WHERE s.hash = ?1 AND s.expires_at > ?2`, hash, now.UnixMicro()).
		Scan(append(sr.dest(), ur.dest()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		err = video.ErrNotFound
	}
	if err == nil {
		sess = sr.session()
		if store.Used(sess.LastSeenAt, now) {
			sess.LastSeenAt, err = s.recordUse(ctx, "UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1 AND last_seen_at < ?2", sess.ID, sess.LastSeenAt, now)
		}
	}
	if err != nil {
		return account.Session{}, account.User{}, fmt.Errorf("session: %w", err)
	}
	return sess, ur.user(), nil
}

// recordUse runs query, an UPDATE of the last use of the credential with id
// to now that keeps a later one, and returns the last use as now stored.
func (s *Store) recordUse(ctx context.Context, query, id string, last, now time.Time) (time.Time, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx, _ int64) error {
		res, err := tx.ExecContext(ctx, query, id, now.UnixMicro())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return time.Time{}, err
	}
	if n == 0 {
		return last, nil
	}
	return fromUnixMicros(now.UnixMicro()), nil
}

// Sessions implements [store.Accounts.Sessions].
func (s *Store) Sessions(ctx context.Context, userID string) ([]account.Session, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT `+sessionColumns+` FROM sessions s
		WHERE s.user_id = ?1 AND s.expires_at > ?2
		ORDER BY s.last_seen_at DESC, s.created_at DESC, s.id DESC`, userID, time.Now().UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("sessions of %s: %w", userID, err)
	}
	defer rows.Close()
	var sessions []account.Session
	for rows.Next() {
		var r sessionRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, fmt.Errorf("sessions of %s: %w", userID, err)
		}
		sessions = append(sessions, r.session())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sessions of %s: %w", userID, err)
	}
	return sessions, nil
}

// DeleteSession implements [store.Accounts.DeleteSession].
func (s *Store) DeleteSession(ctx context.Context, userID, id string) error {
	if err := s.deleteOwned(ctx, "DELETE FROM sessions WHERE user_id = ?1 AND id = ?2", userID, id); err != nil {
		return fmt.Errorf("delete session %s of %s: %w", id, userID, err)
	}
	return nil
}

// deleteOwned runs query, a DELETE of the credential with id of the user
// with userID, giving ErrNotFound when it deleted nothing.
func (s *Store) deleteOwned(ctx context.Context, query, userID, id string) error {
	return s.write(ctx, func(tx *sql.Tx, _ int64) error {
		res, err := tx.ExecContext(ctx, query, userID, id)
		return changed(res, err, video.ErrNotFound)
	})
}

// CreateToken implements [store.Accounts.CreateToken].
func (s *Store) CreateToken(ctx context.Context, t account.Token) error {
	t, err := store.NewToken(t, time.Now())
	if err == nil {
		var scopes []byte
		scopes, err = json.Marshal(store.ScopeNames(t.Scopes))
		if err == nil {
			err = s.write(ctx, func(tx *sql.Tx, _ int64) error {
				var lastUsed sql.NullInt64
				if !t.LastUsedAt.IsZero() {
					lastUsed = sql.NullInt64{Int64: t.LastUsedAt.UnixMicro(), Valid: true}
				}
				_, err := tx.ExecContext(ctx, `
					INSERT INTO api_tokens (id, user_id, name, hash, scopes, created_at, last_used_at)
					VALUES (?, ?, ?, ?, ?, ?, ?)`,
					t.ID, t.UserID, t.Name, t.Hash, string(scopes), t.CreatedAt.UnixMicro(), lastUsed)
				return refusal(err, "the token")
			})
		}
	}
	if err != nil {
		return fmt.Errorf("create token for user %s: %w", t.UserID, err)
	}
	return nil
}

// TokenByHash implements [store.Accounts.TokenByHash].
func (s *Store) TokenByHash(ctx context.Context, hash string, now time.Time) (account.Token, account.User, error) {
	var (
		tr tokenRow
		ur userRow
		t  account.Token
	)
	err := s.r.QueryRowContext(ctx, `
		SELECT `+tokenColumns+`, `+userColumns+`
		FROM api_tokens t JOIN users ON users.id = t.user_id
		WHERE t.hash = ?`, hash).Scan(append(tr.dest(), ur.dest()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		err = video.ErrNotFound
	}
	if err == nil {
		t, err = tr.token()
	}
	if err == nil && store.Used(t.LastUsedAt, now) {
		t.LastUsedAt, err = s.recordUse(ctx, `
			UPDATE api_tokens SET last_used_at = ?2
			WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)`, t.ID, t.LastUsedAt, now)
	}
	if err != nil {
		return account.Token{}, account.User{}, fmt.Errorf("token: %w", err)
	}
	return t, ur.user(), nil
}

// Tokens implements [store.Accounts.Tokens].
func (s *Store) Tokens(ctx context.Context, userID string) ([]account.Token, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT `+tokenColumns+` FROM api_tokens t WHERE t.user_id = ?
		ORDER BY t.created_at DESC, t.id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("tokens of %s: %w", userID, err)
	}
	defer rows.Close()
	var tokens []account.Token
	for rows.Next() {
		var r tokenRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, fmt.Errorf("tokens of %s: %w", userID, err)
		}
		t, err := r.token()
		if err != nil {
			return nil, err
		}
		tokens = append(tokens, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tokens of %s: %w", userID, err)
	}
	return tokens, nil
}

// DeleteToken implements [store.Accounts.DeleteToken].
func (s *Store) DeleteToken(ctx context.Context, userID, id string) error {
	if err := s.deleteOwned(ctx, "DELETE FROM api_tokens WHERE user_id = ?1 AND id = ?2", userID, id); err != nil {
		return fmt.Errorf("delete token %s of %s: %w", id, userID, err)
	}
	return nil
}

// CreateInvite implements [store.Accounts.CreateInvite].
func (s *Store) CreateInvite(ctx context.Context, inv account.Invite) error {
	inv, err := store.NewInvite(inv, time.Now())
	if err == nil {
		err = s.write(ctx, func(tx *sql.Tx, _ int64) error {
			_, err := tx.ExecContext(ctx, `
				INSERT INTO invites (hash, created_by, created_at, expires_at) VALUES (?, nullif(?, ''), ?, ?)`,
				inv.Hash, inv.CreatedBy, inv.CreatedAt.UnixMicro(), inv.ExpiresAt.UnixMicro())
			return refusal(err, "the invitation")
		})
	}
	if err != nil {
		return fmt.Errorf("create invitation: %w", err)
	}
	return nil
}

// UseInvite implements [store.Accounts.UseInvite]. Write transactions run
// one at a time, so a second use of the invitation finds it spent.
func (s *Store) UseInvite(ctx context.Context, hash string, now time.Time, u account.User, passwordHash string) (account.User, error) {
	u, err := store.NewUser(u, now)
	if err != nil {
		return account.User{}, fmt.Errorf("sign up by invitation: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx, txNow int64) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE invites SET used_at = ?2
			WHERE hash = ?1 AND used_at IS NULL AND expires_at > ?2`, hash, now.UnixMicro())
		if err := changed(res, err, video.ErrNotFound); err != nil {
			return err
		}
		if err := insertUser(ctx, tx, txNow, u, passwordHash); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE invites SET used_by = ?2 WHERE hash = ?1", hash, u.ID)
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
		err = s.write(ctx, func(tx *sql.Tx, _ int64) error {
			_, err := tx.ExecContext(ctx, `
				INSERT INTO identities (issuer, subject, user_id) VALUES (?, ?, ?)
				ON CONFLICT (issuer, subject) DO NOTHING`, id.Issuer, id.Subject, id.UserID)
			return refusal(err, "the identity")
		})
	}
	if err != nil {
		return fmt.Errorf("link %s at %s to user %s: %w", id.Subject, id.Issuer, id.UserID, err)
	}
	return nil
}

// UserByIdentity implements [store.Accounts.UserByIdentity].
func (s *Store) UserByIdentity(ctx context.Context, issuer, subject string) (account.User, error) {
	u, err := s.queryUser(ctx, `
		SELECT `+userColumns+` FROM identities i JOIN users ON users.id = i.user_id
		WHERE i.issuer = ? AND i.subject = ?`, issuer, subject)
	if err != nil {
		return account.User{}, fmt.Errorf("user of %s at %s: %w", subject, issuer, err)
	}
	return u, nil
}

// SignInFailures implements [store.Accounts.SignInFailures].
func (s *Store) SignInFailures(ctx context.Context, key string) (int, time.Time, error) {
	var (
		n    int
		last int64
	)
	err := s.r.QueryRowContext(ctx, "SELECT failures, last_at FROM sign_in_failures WHERE key = ?", key).Scan(&n, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("sign-in failures of %q: %w", key, err)
	}
	return n, fromUnixMicros(last), nil
}

// RecordSignInFailure implements [store.Accounts.RecordSignInFailure].
func (s *Store) RecordSignInFailure(ctx context.Context, key string, now time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx, _ int64) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO sign_in_failures (key, failures, last_at) VALUES (?1, 1, ?2)
			ON CONFLICT (key) DO UPDATE SET failures = failures + 1, last_at = max(last_at, excluded.last_at)`,
			key, now.UnixMicro())
		return err
	})
	if err != nil {
		return fmt.Errorf("record sign-in failure of %q: %w", key, err)
	}
	return nil
}

// ClearSignInFailures implements [store.Accounts.ClearSignInFailures].
func (s *Store) ClearSignInFailures(ctx context.Context, key string) error {
	err := s.write(ctx, func(tx *sql.Tx, _ int64) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM sign_in_failures WHERE key = ?", key)
		return err
	})
	if err != nil {
		return fmt.Errorf("clear sign-in failures of %q: %w", key, err)
	}
	return nil
}
