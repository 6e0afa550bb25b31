-- Version 2: accounts. Users and their credentials; videos get an owner and
-- a privacy, and only READY public videos are searched, listed and counted
-- into the vocabulary.
--
-- Migrate runs a version once, in the transaction that records it, so
-- nothing here needs to be idempotent.

-- Usernames and e-mail addresses are unique whatever their case: the store
-- writes them lower-cased, and the NOCASE unique indexes hold even against a
-- row written by hand. password_hash is '' for an account that signs in only
-- through an OpenID provider. Quotas are bytes: 0 takes the operator's
-- default, -1 is unlimited.
CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	username      TEXT NOT NULL COLLATE NOCASE,
	email         TEXT COLLATE NOCASE,
	password_hash TEXT NOT NULL DEFAULT '',
	role          TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'moderator', 'admin')),
	disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	storage_quota INTEGER NOT NULL DEFAULT 0 CHECK (storage_quota >= -1),
	daily_quota   INTEGER NOT NULL DEFAULT 0 CHECK (daily_quota >= -1),
	created_at    INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX users_username_key ON users (username);
CREATE UNIQUE INDEX users_email_key ON users (email) WHERE email IS NOT NULL;
-- Whether an admin exists yet, asked whenever one is made.
CREATE INDEX users_admin_idx ON users (id) WHERE role = 'admin';

-- A video's owner: NULL for a video from before accounts (the first admin
-- adopts those) or whose owner's account is gone. Privacy decides who may
-- list, search and watch it; videos from before accounts are public, as
-- everything was then.
ALTER TABLE videos ADD COLUMN owner_id TEXT REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE videos ADD COLUMN privacy TEXT NOT NULL DEFAULT 'public'
	CHECK (privacy IN ('public', 'unlisted', 'private'));

-- The latest list: READY public videos newest first, keyset-paginated on
-- (created_at, id), in place of version 1's index of every state.
DROP INDEX videos_latest_idx;
CREATE INDEX videos_public_idx ON videos (created_at DESC, id DESC)
	WHERE state = 'ready' AND privacy = 'public';

-- A channel's list, newest first, keyset-paginated on (created_at, id); the
-- owner's usage sums read sizes and states from it alone, the daily one over
-- a range of created_at.
CREATE INDEX videos_owner_idx ON videos (owner_id, created_at DESC, id DESC, state, size_bytes);

-- video_search and search_words now hold READY public videos only: the words
-- of unlisted and private videos must never be a typo's correction or a
-- suggestion, which would give them away. Every video of version 1 is public,
-- so what the old triggers wrote is already right.
DROP TRIGGER videos_search_insert;
DROP TRIGGER videos_search_update;
DROP TRIGGER videos_search_delete;

CREATE TRIGGER videos_search_insert AFTER INSERT ON videos
WHEN NEW.state = 'ready' AND NEW.privacy = 'public'
BEGIN
	INSERT INTO video_search (rowid, title, tags, description)
	VALUES (NEW.seq, NEW.title, (SELECT group_concat(value, ' ') FROM json_each(NEW.tags)), NEW.description);
	INSERT INTO search_words (word, videos)
	SELECT value, 1 FROM json_each(NEW.words) WHERE true
	ON CONFLICT (word) DO UPDATE SET videos = videos + 1;
END;

CREATE TRIGGER videos_search_update
AFTER UPDATE OF state, privacy, title, tags, description, words ON videos
WHEN (OLD.state = 'ready' AND OLD.privacy = 'public') OR (NEW.state = 'ready' AND NEW.privacy = 'public')
BEGIN
	DELETE FROM video_search
	WHERE OLD.state = 'ready' AND OLD.privacy = 'public' AND rowid = OLD.seq;
	DELETE FROM search_words
	WHERE OLD.state = 'ready' AND OLD.privacy = 'public'
	  AND videos <= 1 AND word IN (SELECT value FROM json_each(OLD.words));
	UPDATE search_words SET videos = videos - 1
	WHERE OLD.state = 'ready' AND OLD.privacy = 'public'
	  AND word IN (SELECT value FROM json_each(OLD.words));

	INSERT INTO video_search (rowid, title, tags, description)
	SELECT NEW.seq, NEW.title, (SELECT group_concat(value, ' ') FROM json_each(NEW.tags)), NEW.description
	WHERE NEW.state = 'ready' AND NEW.privacy = 'public';
	INSERT INTO search_words (word, videos)
	SELECT value, 1 FROM json_each(NEW.words) WHERE NEW.state = 'ready' AND NEW.privacy = 'public'
	ON CONFLICT (word) DO UPDATE SET videos = videos + 1;
END;

CREATE TRIGGER videos_search_delete AFTER DELETE ON videos
WHEN OLD.state = 'ready' AND OLD.privacy = 'public'
BEGIN
	DELETE FROM video_search WHERE rowid = OLD.seq;
	DELETE FROM search_words
	WHERE videos <= 1 AND word IN (SELECT value FROM json_each(OLD.words));
	UPDATE search_words SET videos = videos - 1
	WHERE word IN (SELECT value FROM json_each(OLD.words));
END;

-- A signed-in browser. hash is of the cookie's secret, which is kept nowhere.
CREATE TABLE sessions (
	id           TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	hash         TEXT NOT NULL UNIQUE,
	user_agent   TEXT NOT NULL DEFAULT '',
	ip           TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL
) STRICT;

-- A user's sessions, most recently used first; ending all of them at once.
CREATE INDEX sessions_user_idx ON sessions (user_id, last_seen_at DESC);

-- A personal API token; hash is of its secret, scopes a JSON array.
-- last_used_at is NULL until the token is first used.
CREATE TABLE api_tokens (
	id           TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	hash         TEXT NOT NULL UNIQUE,
	scopes       TEXT NOT NULL DEFAULT '[]',
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER
) STRICT;

CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, created_at DESC);

-- An invitation to sign up, by the hash of its code; spent once used_at is
-- set. created_by is NULL for one made by the operator rather than a user.
CREATE TABLE invites (
	hash       TEXT PRIMARY KEY,
	created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_by    TEXT REFERENCES users (id) ON DELETE SET NULL,
	used_at    INTEGER
) STRICT;

-- An account at an OpenID provider, linked to a user.
CREATE TABLE identities (
	issuer  TEXT NOT NULL,
	subject TEXT NOT NULL,
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (issuer, subject)
) STRICT;

CREATE INDEX identities_user_idx ON identities (user_id);

-- Sign-ins that failed in a row under a key (an address or an account), for
-- slowing down guessing.
CREATE TABLE sign_in_failures (
	key      TEXT PRIMARY KEY,
	failures INTEGER NOT NULL CHECK (failures > 0),
	last_at  INTEGER NOT NULL
) STRICT;
