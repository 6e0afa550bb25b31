-- Version 9: reports, the moderation queue, hidden videos and the audit log.
--
-- Migrate runs a version once, in the transaction that records it, so
-- nothing here needs to be idempotent.

-- A moderator hides a video: hidden_at is when (NULL while it shows), and
-- hidden_reason why, which its owner reads. A hidden video is not listed,
-- searched, suggested or played: "listed" is now ready, public and not
-- hidden (store.ListedSQL), in every list's query, in the partial indexes
-- below and in the search triggers.
ALTER TABLE videos ADD COLUMN hidden_at INTEGER;
ALTER TABLE videos ADD COLUMN hidden_reason TEXT NOT NULL DEFAULT '';

-- The latest and trending lists' indexes, on the new predicate: a query
-- uses a partial index only when it names every term of the index's.
DROP INDEX videos_public_idx;
CREATE INDEX videos_public_idx ON videos (created_at DESC, id DESC)
	WHERE state = 'ready' AND privacy = 'public' AND hidden_at IS NULL;

DROP INDEX videos_trending_idx;
CREATE INDEX videos_trending_idx ON videos (trending DESC, id DESC)
	WHERE state = 'ready' AND privacy = 'public' AND hidden_at IS NULL AND trending IS NOT NULL;

-- video_search and search_words hold listed videos only: hiding a video
-- takes its words out of search, suggestions and typo corrections, and
-- restoring it puts them back. No video is hidden yet, so what the old
-- triggers wrote is already right.
DROP TRIGGER videos_search_insert;
DROP TRIGGER videos_search_update;
DROP TRIGGER videos_search_delete;

CREATE TRIGGER videos_search_insert AFTER INSERT ON videos
WHEN NEW.state = 'ready' AND NEW.privacy = 'public' AND NEW.hidden_at IS NULL
BEGIN
	INSERT INTO video_search (rowid, title, tags, description)
	VALUES (NEW.seq, NEW.title, (SELECT group_concat(value, ' ') FROM json_each(NEW.tags)), NEW.description);
	INSERT INTO search_words (word, videos)
	SELECT value, 1 FROM json_each(NEW.words) WHERE true
	ON CONFLICT (word) DO UPDATE SET videos = videos + 1;
END;

CREATE TRIGGER videos_search_update
AFTER UPDATE OF state, privacy, hidden_at, title, tags, description, words ON videos
WHEN (OLD.state = 'ready' AND OLD.privacy = 'public' AND OLD.hidden_at IS NULL)
  OR (NEW.state = 'ready' AND NEW.privacy = 'public' AND NEW.hidden_at IS NULL)
BEGIN
	DELETE FROM video_search
	WHERE OLD.state = 'ready' AND OLD.privacy = 'public' AND OLD.hidden_at IS NULL AND rowid = OLD.seq;
	DELETE FROM search_words
	WHERE OLD.state = 'ready' AND OLD.privacy = 'public' AND OLD.hidden_at IS NULL
	  AND videos <= 1 AND word IN (SELECT value FROM json_each(OLD.words));
	UPDATE search_words SET videos = videos - 1
	WHERE OLD.state = 'ready' AND OLD.privacy = 'public' AND OLD.hidden_at IS NULL
	  AND word IN (SELECT value FROM json_each(OLD.words));

	INSERT INTO video_search (rowid, title, tags, description)
	SELECT NEW.seq, NEW.title, (SELECT group_concat(value, ' ') FROM json_each(NEW.tags)), NEW.description
	WHERE NEW.state = 'ready' AND NEW.privacy = 'public' AND NEW.hidden_at IS NULL;
	INSERT INTO search_words (word, videos)
	SELECT value, 1 FROM json_each(NEW.words)
	WHERE NEW.state = 'ready' AND NEW.privacy = 'public' AND NEW.hidden_at IS NULL
	ON CONFLICT (word) DO UPDATE SET videos = videos + 1;
END;

CREATE TRIGGER videos_search_delete AFTER DELETE ON videos
WHEN OLD.state = 'ready' AND OLD.privacy = 'public' AND OLD.hidden_at IS NULL
BEGIN
	DELETE FROM video_search WHERE rowid = OLD.seq;
	DELETE FROM search_words
	WHERE videos <= 1 AND word IN (SELECT value FROM json_each(OLD.words));
	UPDATE search_words SET videos = videos - 1
	WHERE word IN (SELECT value FROM json_each(OLD.words));
END;

-- A user's report of a video or a comment. A report is open until a
-- moderator acts on its target (resolved_at, and the action in
-- resolution); a user has one open report per target, which reporting
-- again changes. target_id names a video or a comment by kind, so it has
-- no foreign key; resolved reports stay as the history of a target.
CREATE TABLE reports (
	id          INTEGER PRIMARY KEY,
	target_kind TEXT NOT NULL CHECK (target_kind IN ('video', 'comment')),
	target_id   TEXT NOT NULL,
	reporter_id TEXT NOT NULL REFERENCES users (id),
	reason      TEXT NOT NULL
	            CHECK (reason IN ('spam', 'abuse', 'sexual', 'violence', 'copyright', 'other')),
	note        TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	resolved_at INTEGER,
	resolution  TEXT CHECK (resolution IN ('hide', 'dismiss'))
) STRICT;

-- One open report per user and target; a target's open reports, newest
-- first, for the queue; a reporter's recent reports, for their rate.
CREATE UNIQUE INDEX reports_open_key ON reports (target_kind, target_id, reporter_id)
	WHERE resolved_at IS NULL;
CREATE INDEX reports_case_idx ON reports (target_kind, target_id, updated_at DESC)
	WHERE resolved_at IS NULL;
CREATE INDEX reports_reporter_idx ON reports (reporter_id, updated_at);

-- The moderation queue: one row per target with open reports, counting
-- them and keeping when the newest was filed, written with each report
-- so that the queue reads counters, not COUNT(*); report_reasons counts
-- them by reason. Both go when a moderator resolves the target's reports.
CREATE TABLE report_cases (
	target_kind TEXT NOT NULL,
	target_id   TEXT NOT NULL,
	reports     INTEGER NOT NULL CHECK (reports > 0),
	latest_at   INTEGER NOT NULL,
	PRIMARY KEY (target_kind, target_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX report_cases_latest_idx ON report_cases (latest_at DESC, target_kind DESC, target_id DESC);

CREATE TABLE report_reasons (
	target_kind TEXT NOT NULL,
	target_id   TEXT NOT NULL,
	reason      TEXT NOT NULL,
	reports     INTEGER NOT NULL CHECK (reports > 0),
	PRIMARY KEY (target_kind, target_id, reason)
) STRICT, WITHOUT ROWID;

-- The audit log: every moderator's action, who (their id, and their
-- username as it was), what, on which target, when, why, and how many open
-- reports it resolved. It is append-only: the triggers below refuse to
-- change or remove an entry, whoever asks. actor_id has no foreign key, so
-- that no change to users can reach into the log.
CREATE TABLE moderation_log (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	at          INTEGER NOT NULL,
	actor_id    TEXT NOT NULL,
	actor_name  TEXT NOT NULL,
	action      TEXT NOT NULL CHECK (action IN ('hide', 'restore', 'dismiss')),
	target_kind TEXT NOT NULL,
	target_id   TEXT NOT NULL,
	why         TEXT NOT NULL,
	resolved    INTEGER NOT NULL
) STRICT;

CREATE TRIGGER moderation_log_no_update BEFORE UPDATE ON moderation_log
BEGIN
	SELECT RAISE(ABORT, 'the moderation log is append-only');
END;

CREATE TRIGGER moderation_log_no_delete BEFORE DELETE ON moderation_log
BEGIN
	SELECT RAISE(ABORT, 'the moderation log is append-only');
END;
