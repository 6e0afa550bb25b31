-- CloudFlix's SQLite schema, version 1: videos, upload sessions, the encode
-- outbox and search. With the versions after it, it is the embedded twin of
-- videos_schema.sql: the same tables with the same meaning, in SQLite's terms.
--
-- Databases made before schema versions (user_version 0) ran this file at
-- every start; Migrate runs it on them once more before version 2, so every
-- statement must stay idempotent (IF NOT EXISTS). Never change it: change the
-- schema with a new version.
--
-- Times are INTEGER microseconds since the Unix epoch, UTC: they order and
-- compare as numbers and keep the precision of PostgreSQL's timestamptz.
-- Lists (tags, renditions, words) are JSON arrays in TEXT columns.

CREATE TABLE IF NOT EXISTS videos (
	-- seq is the stable integer key the full-text index needs (a rowid that
	-- VACUUM may not renumber); id is the video's UUID, canonical lower-case.
	seq              INTEGER PRIMARY KEY,
	id               TEXT NOT NULL UNIQUE,
	title            TEXT NOT NULL,
	description      TEXT NOT NULL DEFAULT '',
	tags             TEXT NOT NULL DEFAULT '[]',
	-- The distinct plain words (letters and digits, lower-case) of title, tags
	-- and description, written with them; the triggers below count them into
	-- search_words while the video is ready.
	words            TEXT NOT NULL DEFAULT '[]',
	state            TEXT NOT NULL DEFAULT 'uploading'
	                 CHECK (state IN ('uploading', 'uploaded', 'processing', 'ready', 'failed', 'deleted')),
	failure_reason   TEXT NOT NULL DEFAULT '',
	progress         REAL NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
	duration_seconds REAL NOT NULL DEFAULT 0,
	width            INTEGER NOT NULL DEFAULT 0,
	height           INTEGER NOT NULL DEFAULT 0,
	-- JSON array of {name, width, height, bandwidth, average_bandwidth, codecs, frame_rate}.
	renditions       TEXT NOT NULL DEFAULT '[]',
	views            INTEGER NOT NULL DEFAULT 0,
	size_bytes       INTEGER NOT NULL DEFAULT 0,
	content_type     TEXT NOT NULL DEFAULT '',
	-- How many times an encode has been claimed since upload (or re-encode).
	encode_attempts  INTEGER NOT NULL DEFAULT 0,
	-- The encode worker holding the video while it is 'processing', and until
	-- when; a lease in the past may be taken over.
	lease_owner      TEXT,
	lease_until      INTEGER,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
) STRICT;

-- The latest list: READY videos newest first, keyset-paginated on (created_at, id).
CREATE INDEX IF NOT EXISTS videos_latest_idx ON videos (state, created_at DESC, id DESC);

-- The reconciler's scan for videos stuck in 'uploaded' or 'processing'.
CREATE INDEX IF NOT EXISTS videos_stuck_idx ON videos (state, updated_at)
	WHERE state IN ('uploaded', 'processing');

-- An open multipart upload of a video's source; removed when the upload
-- completes or the video is deleted.
CREATE TABLE IF NOT EXISTS upload_sessions (
	video_id   TEXT PRIMARY KEY REFERENCES videos (id) ON DELETE CASCADE,
	upload_id  TEXT NOT NULL,
	object_key TEXT NOT NULL,
	size_bytes INTEGER NOT NULL,
	part_size  INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

-- Encode jobs written in the same transaction as the state change that asks
-- for them; a relay publishes the unsent ones and stamps sent_at.
-- AUTOINCREMENT: ids of deleted jobs are never handed out again, as with a
-- PostgreSQL sequence.
CREATE TABLE IF NOT EXISTS outbox (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	video_id     TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
	created_at   INTEGER NOT NULL,
	available_at INTEGER NOT NULL,
	sent_at      INTEGER,
	-- W3C traceparent of the request that asked for the job, so the encode
	-- joins that request's trace.
	trace_parent TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX IF NOT EXISTS outbox_pending_idx ON outbox (available_at, id) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_video_idx ON outbox (video_id, created_at);

-- video_search is the full-text index of READY videos, rowid = videos.seq,
-- kept by the triggers below. Tokens are words of letters (L*), decimal digits
-- (Nd) and marks (M*), case-folded but not stripped of accents: the same words
-- the store's query parser makes, as PostgreSQL's 'simple' configuration
-- keeps them. Prefix indexes of 2 and 3 characters serve search-as-you-type.
CREATE VIRTUAL TABLE IF NOT EXISTS video_search USING fts5 (
	title, tags, description,
	tokenize = "unicode61 remove_diacritics 0 categories 'L* Nd M*'",
	prefix = '2 3'
);

-- search_words is the vocabulary of READY videos: every plain word of their
-- title, tags and description, with how many READY videos use it. Search
-- corrects a query word that starts no word here to its nearest word by
-- trigram similarity. The BINARY collation makes the unique index serve "does
-- any word start with w" as a range scan.
CREATE TABLE IF NOT EXISTS search_words (
	id     INTEGER PRIMARY KEY,
	word   TEXT NOT NULL UNIQUE,
	videos INTEGER NOT NULL CHECK (videos > 0)
) STRICT;

-- search_words_trgm indexes the vocabulary by pg_trgm's trigrams, so that the
-- words sharing a trigram with a typo are found without reading every word.
-- It holds each word padded as pg_trgm pads it, two spaces before and one
-- after ("  cat "), so that the trigram tokenizer's trigrams are pg_trgm's:
-- "  c", " ca", "cat", "at ". rowid = search_words.id; contentless, since the
-- word itself is in search_words.
CREATE VIRTUAL TABLE IF NOT EXISTS search_words_trgm USING fts5 (
	padded, tokenize = 'trigram', content = ''
);

CREATE TRIGGER IF NOT EXISTS search_words_trgm_insert AFTER INSERT ON search_words
BEGIN
	INSERT INTO search_words_trgm (rowid, padded) VALUES (NEW.id, '  ' || NEW.word || ' ');
END;

CREATE TRIGGER IF NOT EXISTS search_words_trgm_delete AFTER DELETE ON search_words
BEGIN
	INSERT INTO search_words_trgm (search_words_trgm, rowid, padded)
	VALUES ('delete', OLD.id, '  ' || OLD.word || ' ');
END;

-- The triggers below keep video_search and search_words equal to the READY
-- videos, whichever statement moves a video into or out of 'ready'. A video
-- leaving 'ready' drops its words' last uses and counts down the rest; one
-- arriving counts its words up.
CREATE TRIGGER IF NOT EXISTS videos_search_insert AFTER INSERT ON videos
WHEN NEW.state = 'ready'
BEGIN
	INSERT INTO video_search (rowid, title, tags, description)
	VALUES (NEW.seq, NEW.title, (SELECT group_concat(value, ' ') FROM json_each(NEW.tags)), NEW.description);
	INSERT INTO search_words (word, videos)
	SELECT value, 1 FROM json_each(NEW.words) WHERE true
	ON CONFLICT (word) DO UPDATE SET videos = videos + 1;
END;

CREATE TRIGGER IF NOT EXISTS videos_search_update
AFTER UPDATE OF state, title, tags, description, words ON videos
WHEN OLD.state = 'ready' OR NEW.state = 'ready'
BEGIN
	DELETE FROM video_search WHERE rowid = OLD.seq AND OLD.state = 'ready';
	DELETE FROM search_words
	WHERE OLD.state = 'ready' AND videos <= 1 AND word IN (SELECT value FROM json_each(OLD.words));
	UPDATE search_words SET videos = videos - 1
	WHERE OLD.state = 'ready' AND word IN (SELECT value FROM json_each(OLD.words));

	INSERT INTO video_search (rowid, title, tags, description)
	SELECT NEW.seq, NEW.title, (SELECT group_concat(value, ' ') FROM json_each(NEW.tags)), NEW.description
	WHERE NEW.state = 'ready';
	INSERT INTO search_words (word, videos)
	SELECT value, 1 FROM json_each(NEW.words) WHERE NEW.state = 'ready'
	ON CONFLICT (word) DO UPDATE SET videos = videos + 1;
END;

CREATE TRIGGER IF NOT EXISTS videos_search_delete AFTER DELETE ON videos
WHEN OLD.state = 'ready'
BEGIN
	DELETE FROM video_search WHERE rowid = OLD.seq;
	DELETE FROM search_words
	WHERE videos <= 1 AND word IN (SELECT value FROM json_each(OLD.words));
	UPDATE search_words SET videos = videos - 1
	WHERE word IN (SELECT value FROM json_each(OLD.words));
END;
