-- CloudFlix's canonical PostgreSQL schema.
--
-- `cloudflix migrate` (and every service start) applies this whole file in one
-- transaction under an advisory lock, so every statement must be idempotent:
-- CREATE ... IF NOT EXISTS, CREATE OR REPLACE. Change it by adding idempotent
-- statements (ALTER TABLE ... ADD COLUMN IF NOT EXISTS), never by editing a
-- CREATE TABLE that databases in the field have already run.

-- Trigram similarity is how search tolerates typos. pg_trgm is a trusted
-- extension, so a database owner without superuser may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- cloudflix_search_document is the weighted full-text document of a video:
-- title A, tags B, description C, so ts_rank puts a title match above a
-- description-only one. The 'simple' configuration keeps whole words as they
-- are (lower-cased, no stemming, no stop words): a prefix query `moun:*` then
-- matches what was typed, and typo correction compares query words with the
-- very lexemes stored here. It is declared IMMUTABLE (array_to_string alone is
-- only STABLE) because it is the expression of a generated column; it only ever
-- joins text[] elements, whose output never depends on settings.
CREATE OR REPLACE FUNCTION cloudflix_search_document(title text, tags text[], description text)
RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT setweight(to_tsvector('simple', coalesce(title, '')), 'A')
	    || setweight(to_tsvector('simple', coalesce(array_to_string(tags, ' '), '')), 'B')
	    || setweight(to_tsvector('simple', coalesce(description, '')), 'C')
$$;

CREATE TABLE IF NOT EXISTS videos (
	id               uuid PRIMARY KEY,
	title            text NOT NULL,
	description      text NOT NULL DEFAULT '',
	tags             text[] NOT NULL DEFAULT '{}',
	state            text NOT NULL DEFAULT 'uploading'
	                 CONSTRAINT videos_state_check
	                 CHECK (state IN ('uploading', 'uploaded', 'processing', 'ready', 'failed', 'deleted')),
	failure_reason   text NOT NULL DEFAULT '',
	progress         double precision NOT NULL DEFAULT 0
	                 CONSTRAINT videos_progress_check CHECK (progress >= 0 AND progress <= 1),
	duration_seconds double precision NOT NULL DEFAULT 0,
	width            integer NOT NULL DEFAULT 0,
	height           integer NOT NULL DEFAULT 0,
	-- JSON array of {name, width, height, bandwidth, average_bandwidth, codecs, frame_rate}.
	renditions       jsonb NOT NULL DEFAULT '[]',
	views            bigint NOT NULL DEFAULT 0,
	size_bytes       bigint NOT NULL DEFAULT 0,
	content_type     text NOT NULL DEFAULT '',
	-- How many times an encode has been claimed since upload (or re-encode).
	encode_attempts  integer NOT NULL DEFAULT 0,
	-- The encode worker holding the video while it is 'processing', and until
	-- when; a lease in the past may be taken over.
	lease_owner      text,
	lease_until      timestamptz,
	created_at       timestamptz NOT NULL DEFAULT now(),
	updated_at       timestamptz NOT NULL DEFAULT now(),
	search           tsvector GENERATED ALWAYS AS (cloudflix_search_document(title, tags, description)) STORED
);

-- Accounts. Usernames and e-mail addresses are unique whatever their case:
-- the store writes them lower-cased, and the unique indexes on lower() hold
-- even against a row written by hand. Their C collation makes the store's
-- order of users byte order, as in the embedded store, and lets the username
-- index serve both lookups and the paged list of users. password_hash is ''
-- for an account that signs in only through an OpenID provider. Quotas are
-- bytes: 0 takes the operator's default, -1 is unlimited.
CREATE TABLE IF NOT EXISTS users (
	id            uuid PRIMARY KEY,
	username      text COLLATE "C" NOT NULL,
	email         text COLLATE "C",
	password_hash text NOT NULL DEFAULT '',
	role          text NOT NULL DEFAULT 'user'
	              CONSTRAINT users_role_check CHECK (role IN ('user', 'moderator', 'admin')),
	disabled      boolean NOT NULL DEFAULT false,
	storage_quota bigint NOT NULL DEFAULT 0 CONSTRAINT users_storage_quota_check CHECK (storage_quota >= -1),
	daily_quota   bigint NOT NULL DEFAULT 0 CONSTRAINT users_daily_quota_check CHECK (daily_quota >= -1),
	created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX IF NOT EXISTS users_username_key ON users (lower(username));
CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON users (lower(email)) WHERE email IS NOT NULL;
-- Whether an admin exists yet, asked whenever one is made.
CREATE INDEX IF NOT EXISTS users_admin_idx ON users (id) WHERE role = 'admin';

-- A video's owner: NULL for a video from before accounts (the first admin
-- adopts those) or whose owner's account is gone. Privacy decides who may
-- list, search and watch it; videos from before accounts are public, as
-- everything was then.
ALTER TABLE videos ADD COLUMN IF NOT EXISTS owner_id uuid REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE videos ADD COLUMN IF NOT EXISTS privacy text NOT NULL DEFAULT 'public'
	CONSTRAINT videos_privacy_check CHECK (privacy IN ('public', 'unlisted', 'private'));

-- The latest list: READY public videos newest first, keyset-paginated on
-- (created_at, id). It replaces videos_latest_idx, which indexed every state
-- and privacy.
CREATE INDEX IF NOT EXISTS videos_public_idx ON videos (created_at DESC, id DESC)
	WHERE state = 'ready' AND privacy = 'public';
DROP INDEX IF EXISTS videos_latest_idx;

-- A channel's list, newest first, keyset-paginated on (created_at, id); the
-- owner's usage sums read sizes and states from it alone, the daily one over
-- a range of created_at.
CREATE INDEX IF NOT EXISTS videos_owner_idx ON videos (owner_id, created_at DESC, id DESC)
	INCLUDE (state, size_bytes);

-- Full-text search only ever looks at READY videos.
CREATE INDEX IF NOT EXISTS videos_search_idx ON videos USING gin (search) WHERE state = 'ready';

-- The reconciler's scan for videos stuck in 'uploaded' or 'processing'.
CREATE INDEX IF NOT EXISTS videos_stuck_idx ON videos (state, updated_at)
	WHERE state IN ('uploaded', 'processing');

-- An open multipart upload of a video's source; removed when the upload
-- completes or the video is deleted.
CREATE TABLE IF NOT EXISTS upload_sessions (
	video_id   uuid PRIMARY KEY REFERENCES videos (id) ON DELETE CASCADE,
	upload_id  text NOT NULL,
	object_key text NOT NULL,
	size_bytes bigint NOT NULL,
	part_size  bigint NOT NULL,
	expires_at timestamptz NOT NULL
);

-- Encode jobs written in the same transaction as the state change that asks
-- for them; a relay publishes the unsent ones and stamps sent_at.
CREATE TABLE IF NOT EXISTS outbox (
	id           bigserial PRIMARY KEY,
	video_id     uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
	created_at   timestamptz NOT NULL DEFAULT now(),
	available_at timestamptz NOT NULL DEFAULT now(),
	sent_at      timestamptz,
	-- W3C traceparent of the request that asked for the job, so the encode
	-- joins that request's trace.
	trace_parent text NOT NULL DEFAULT ''
);

CREATE INDEX IF NOT EXISTS outbox_pending_idx ON outbox (available_at, id) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_video_idx ON outbox (video_id, created_at);

-- search_words is the vocabulary of READY public videos: every plain word
-- (letters and digits only, as query words are) of their search documents,
-- with how many such videos use it. Search corrects a query word that starts
-- no word here to its nearest word by trigram similarity, and so the words of
-- unlisted and private videos must never be here: a correction or a
-- suggestion would give them away. The C collation makes the primary key
-- serve "does any word start with w" as a range scan.
CREATE TABLE IF NOT EXISTS search_words (
	word   text COLLATE "C" PRIMARY KEY,
	videos integer NOT NULL CHECK (videos > 0)
);

CREATE INDEX IF NOT EXISTS search_words_trgm_idx ON search_words USING gin (word gin_trgm_ops);

-- cloudflix_search_words_sync keeps search_words equal to the words of
-- listed videos (ready, public, not hidden: store.ListedSQL). Words are added and removed in sorted order (tsvector_to_array
-- returns lexemes sorted) so concurrent transactions lock them in the same
-- order and cannot deadlock on each other.
CREATE OR REPLACE FUNCTION cloudflix_search_words_sync() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
	old_words text[] := '{}';
	new_words text[] := '{}';
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state = 'ready' AND OLD.privacy = 'public' AND OLD.hidden_at IS NULL THEN
		old_words := ARRAY(SELECT w FROM unnest(tsvector_to_array(OLD.search)) AS w
		                   WHERE w ~ '^[[:alnum:]]+$' ORDER BY w COLLATE "C");
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.state = 'ready' AND NEW.privacy = 'public' AND NEW.hidden_at IS NULL THEN
		new_words := ARRAY(SELECT w FROM unnest(tsvector_to_array(NEW.search)) AS w
		                   WHERE w ~ '^[[:alnum:]]+$' ORDER BY w COLLATE "C");
	END IF;
	IF old_words = new_words THEN
		RETURN NULL;
	END IF;

	INSERT INTO search_words AS s (word, videos)
	SELECT w, 1 FROM unnest(new_words) AS w
	WHERE NOT w = ANY (old_words)
	ORDER BY w COLLATE "C"
	ON CONFLICT (word) DO UPDATE SET videos = s.videos + 1;

	-- Lock the words to drop in order, then drop the last uses and count down the rest.
	PERFORM 1 FROM search_words
	WHERE word = ANY (old_words) AND NOT word = ANY (new_words)
	ORDER BY word FOR UPDATE;
	DELETE FROM search_words
	WHERE word = ANY (old_words) AND NOT word = ANY (new_words) AND videos <= 1;
	UPDATE search_words SET videos = videos - 1
	WHERE word = ANY (old_words) AND NOT word = ANY (new_words);
	RETURN NULL;
END
$$;

-- Its trigger, videos_search_words_sync, is created with the moderation
-- section below, since it also fires when a video is hidden or restored.

-- cloudflix_search_words_added counts the words of the READY public videos
-- an INSERT or COPY added, once per statement: a word that thousands of
-- imported videos share is one upsert, where a row trigger would update its
-- row once per video and leave a dead version of it each time. Words are
-- added in sorted order, as above.
CREATE OR REPLACE FUNCTION cloudflix_search_words_added() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	INSERT INTO search_words AS s (word, videos)
	SELECT w, count(*) FROM added, unnest(tsvector_to_array(added.search)) AS w
	WHERE added.state = 'ready' AND added.privacy = 'public' AND added.hidden_at IS NULL AND w ~ '^[[:alnum:]]+$'
	GROUP BY w
	ORDER BY w COLLATE "C"
	ON CONFLICT (word) DO UPDATE SET videos = s.videos + excluded.videos;
	RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER videos_search_words_added
	AFTER INSERT ON videos REFERENCING NEW TABLE AS added
	FOR EACH STATEMENT EXECUTE FUNCTION cloudflix_search_words_added();

-- A signed-in browser. hash is of the cookie's secret, which is kept nowhere.
CREATE TABLE IF NOT EXISTS sessions (
	id           uuid PRIMARY KEY,
	user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	hash         text NOT NULL CONSTRAINT sessions_hash_key UNIQUE,
	user_agent   text NOT NULL DEFAULT '',
	ip           text NOT NULL DEFAULT '',
	created_at   timestamptz NOT NULL DEFAULT now(),
	last_seen_at timestamptz NOT NULL DEFAULT now(),
	expires_at   timestamptz NOT NULL
);

-- A user's sessions, most recently used first; ending all of them at once.
CREATE INDEX IF NOT EXISTS sessions_user_idx ON sessions (user_id, last_seen_at DESC);

-- A personal API token; hash is of its secret. last_used_at is NULL until
-- the token is first used.
CREATE TABLE IF NOT EXISTS api_tokens (
	id           uuid PRIMARY KEY,
	user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name         text NOT NULL,
	hash         text NOT NULL CONSTRAINT api_tokens_hash_key UNIQUE,
	scopes       text[] NOT NULL DEFAULT '{}',
	created_at   timestamptz NOT NULL DEFAULT now(),
	last_used_at timestamptz
);

CREATE INDEX IF NOT EXISTS api_tokens_user_idx ON api_tokens (user_id, created_at DESC);

-- An invitation to sign up, by the hash of its code; spent once used_at is
-- set. created_by is NULL for one made by the operator rather than a user.
CREATE TABLE IF NOT EXISTS invites (
	hash       text PRIMARY KEY,
	created_by uuid REFERENCES users (id) ON DELETE SET NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	used_by    uuid REFERENCES users (id) ON DELETE SET NULL,
	used_at    timestamptz
);

-- An account at an OpenID provider, linked to a user.
CREATE TABLE IF NOT EXISTS identities (
	issuer  text NOT NULL,
	subject text NOT NULL,
	user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (issuer, subject)
);

CREATE INDEX IF NOT EXISTS identities_user_idx ON identities (user_id);

-- Sign-ins that failed in a row under a key (an address or an account), for
-- slowing down guessing.
CREATE TABLE IF NOT EXISTS sign_in_failures (
	key      text PRIMARY KEY,
	failures integer NOT NULL CHECK (failures > 0),
	last_at  timestamptz NOT NULL
);

-- The janitor's work, which one replica of an install does at a time.
--
-- A failed video whose source the janitor removed keeps its row, and its
-- reason stays readable, but it can no longer be encoded again.
ALTER TABLE videos ADD COLUMN IF NOT EXISTS source_removed_at timestamptz;

-- Failed videos that still keep their source, by when they last changed.
CREATE INDEX IF NOT EXISTS videos_failed_idx ON videos (updated_at)
	WHERE state = 'failed' AND source_removed_at IS NULL;

-- Upload sessions by expiry, for aborting the expired ones.
CREATE INDEX IF NOT EXISTS upload_sessions_expires_idx ON upload_sessions (expires_at);

-- Sent jobs by when they were sent, for purging the old ones.
CREATE INDEX IF NOT EXISTS outbox_sent_idx ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- A lease lets one replica at a time do a piece of background work: holder
-- has it until expires_at, after which another may take it.
CREATE TABLE IF NOT EXISTS leases (
	name       text PRIMARY KEY,
	holder     text NOT NULL,
	expires_at timestamptz NOT NULL
);

-- Engagement: likes, and the score that ranks trending videos.
--
-- A like is one signed-in user's, once per video; likes counts them, kept
-- with the video so that its info carries the count without a COUNT(*).
CREATE TABLE IF NOT EXISTS video_likes (
	video_id   uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
	user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL,
	PRIMARY KEY (video_id, user_id)
);

CREATE INDEX IF NOT EXISTS video_likes_user_idx ON video_likes (user_id);

ALTER TABLE videos ADD COLUMN IF NOT EXISTS likes bigint NOT NULL DEFAULT 0;

-- trending is the natural log of the video's decayed count of views and
-- likes, scaled to a fixed epoch (internal/video/trending.go), so that it
-- orders videos as their scores do now without being rewritten as time
-- passes; NULL before the first view or like.
ALTER TABLE videos ADD COLUMN IF NOT EXISTS trending double precision;

-- The trending list: ready public videos by score, an index scan.
CREATE INDEX IF NOT EXISTS videos_trending_idx ON videos (trending DESC, id DESC)
	WHERE state = 'ready' AND privacy = 'public' AND trending IS NOT NULL;

-- Webhooks: endpoints and the outbox of their deliveries.
--
-- An endpoint a user registered: all_videos (an admin's) receives the
-- events of every video; secret is the signing secret sealed with a key
-- derived from the internal key.
CREATE TABLE IF NOT EXISTS webhook_endpoints (
	id         uuid PRIMARY KEY,
	owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	url        text NOT NULL,
	events     text[] NOT NULL,
	all_videos boolean NOT NULL DEFAULT false,
	secret     bytea NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);

-- A user's endpoints, and whose endpoints an event of their video goes to.
CREATE INDEX IF NOT EXISTS webhook_endpoints_owner_idx ON webhook_endpoints (owner_id, created_at);
-- The endpoints for every video, which every event goes to.
CREATE INDEX IF NOT EXISTS webhook_endpoints_all_idx ON webhook_endpoints (owner_id) WHERE all_videos;

-- One event on its way to one endpoint, written in the transaction of the
-- change it announces, and its log. A pending delivery is due at
-- next_attempt_at; a sender that claims one pushes that to the end of its
-- claim (claimed_by), so that it is due again only if the sender dies.
-- payload is the exact body that is signed and sent.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
	id              bigserial PRIMARY KEY,
	endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	event_id        uuid NOT NULL,
	event_type      text NOT NULL,
	video_id        uuid,
	payload         bytea NOT NULL,
	state           text NOT NULL DEFAULT 'pending'
	                CONSTRAINT webhook_deliveries_state_check CHECK (state IN ('pending', 'delivered', 'failed')),
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz,
	claimed_by      text,
	last_status     integer NOT NULL DEFAULT 0,
	last_latency_us bigint NOT NULL DEFAULT 0,
	last_error      text NOT NULL DEFAULT '',
	created_at      timestamptz NOT NULL DEFAULT now(),
	updated_at      timestamptz NOT NULL DEFAULT now(),
	finished_at     timestamptz
);

-- Pending deliveries by when they are due, for the senders.
CREATE INDEX IF NOT EXISTS webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
-- An endpoint's log, newest first.
CREATE INDEX IF NOT EXISTS webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id);
-- Finished deliveries by when they finished, for purging the old ones.
CREATE INDEX IF NOT EXISTS webhook_deliveries_finished_idx ON webhook_deliveries (finished_at) WHERE finished_at IS NOT NULL;
-- Playlists: a user's ordered lists of videos.
--
-- item_count counts a playlist's items, kept with the row as they are
-- added and removed, so that a list of playlists shows their sizes without
-- a COUNT(*).
CREATE TABLE IF NOT EXISTS playlists (
	id          uuid PRIMARY KEY,
	owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	title       text NOT NULL,
	description text NOT NULL DEFAULT '',
	privacy     text NOT NULL CONSTRAINT playlists_privacy_check CHECK (privacy IN ('public', 'unlisted', 'private')),
	item_count  integer NOT NULL DEFAULT 0 CONSTRAINT playlists_item_count_check CHECK (item_count >= 0),
	created_at  timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL
);

-- A user's playlists newest first: their channel's and their own list.
CREATE INDEX IF NOT EXISTS playlists_owner_idx ON playlists (owner_id, created_at DESC, id DESC);

-- The items of a playlist at dense positions 0..item_count-1, each video
-- once. The names differ from every column of videos, so that the video's
-- columns are read unqualified beside them.
CREATE TABLE IF NOT EXISTS playlist_items (
	playlist_id uuid NOT NULL REFERENCES playlists (id) ON DELETE CASCADE,
	video_id    uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
	pos         integer NOT NULL,
	added_at    timestamptz NOT NULL,
	PRIMARY KEY (playlist_id, video_id)
);

CREATE UNIQUE INDEX IF NOT EXISTS playlist_items_pos_key ON playlist_items (playlist_id, pos);
-- The playlists a video is in, for the cascade when a video row goes.
CREATE INDEX IF NOT EXISTS playlist_items_video_idx ON playlist_items (video_id);

-- Captions: a row says the object videos/{video_id}/captions/{language}.vtt
-- holds the video's captions in language (a canonical BCP 47 tag), shown in
-- players as label.
CREATE TABLE IF NOT EXISTS video_captions (
	video_id   uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
	language   text NOT NULL,
	label      text NOT NULL,
	size_bytes bigint NOT NULL,
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (video_id, language)
);

-- Comments, and whether a video takes new ones.
--
-- A comment is a signed-in user's text under a video: top-level (no
-- parent_id) or a reply to a top-level comment, one level deep. replies
-- counts a top-level comment's replies, kept with it so that a page of
-- comments carries the counts without a COUNT(*). Removing a top-level
-- comment removes its replies (ON DELETE CASCADE); the store moves the
-- video's count in the same transaction.
CREATE TABLE IF NOT EXISTS comments (
	id         uuid PRIMARY KEY,
	video_id   uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
	parent_id  uuid REFERENCES comments (id) ON DELETE CASCADE,
	author_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	body       text NOT NULL,
	replies    bigint NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL,
	edited_at  timestamptz
);

-- A video's threads newest first, and a thread's replies oldest first:
-- each page is a scan of one of these.
CREATE INDEX IF NOT EXISTS comments_video_idx ON comments (video_id, created_at DESC, id DESC)
	WHERE parent_id IS NULL;
CREATE INDEX IF NOT EXISTS comments_parent_idx ON comments (parent_id, created_at, id)
	WHERE parent_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS comments_author_idx ON comments (author_id);

-- comments counts a video's comments, replies included; comments_off is
-- its owner refusing new ones.
ALTER TABLE videos ADD COLUMN IF NOT EXISTS comments bigint NOT NULL DEFAULT 0;
ALTER TABLE videos ADD COLUMN IF NOT EXISTS comments_off boolean NOT NULL DEFAULT false;

-- What is left of a user's allowance of comments (video.CommentRate), a
-- token bucket kept in the database so that every replica of the platform
-- spends from the same one, in the transaction that posts the comment.
CREATE TABLE IF NOT EXISTS comment_allowances (
	user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	tokens  double precision NOT NULL,
	at      timestamptz NOT NULL
);

-- Moderation: reports, the moderation queue, hidden videos and the audit
-- log.
--
-- A moderator hides a video: hidden_at is when (NULL while it shows), and
-- hidden_reason why, which its owner reads. A hidden video is not listed,
-- searched, suggested or played: "listed" is ready, public and not hidden
-- (store.ListedSQL), in every list's query, in the partial indexes below
-- and in search_words.
ALTER TABLE videos ADD COLUMN IF NOT EXISTS hidden_at timestamptz;
ALTER TABLE videos ADD COLUMN IF NOT EXISTS hidden_reason text NOT NULL DEFAULT '';

-- The latest and trending lists' indexes, rebuilt on the listed predicate
-- where they were built before it (a fresh database too, which made them
-- above a moment ago, empty): the planner uses a partial index only for a
-- query whose conditions imply the index's.
DO $$
DECLARE
	name text;
BEGIN
	FOREACH name IN ARRAY ARRAY['videos_public_idx', 'videos_trending_idx'] LOOP
		IF EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema()
		           AND indexname = name AND indexdef NOT LIKE '%hidden_at IS NULL%') THEN
			EXECUTE format('DROP INDEX %I', name);
		END IF;
	END LOOP;
END
$$;
CREATE INDEX IF NOT EXISTS videos_public_idx ON videos (created_at DESC, id DESC)
	WHERE state = 'ready' AND privacy = 'public' AND hidden_at IS NULL;
CREATE INDEX IF NOT EXISTS videos_trending_idx ON videos (trending DESC, id DESC)
	WHERE state = 'ready' AND privacy = 'public' AND hidden_at IS NULL AND trending IS NOT NULL;

-- Hiding a video takes its words out of search_words, and restoring it
-- puts them back (cloudflix_search_words_sync, above).
CREATE OR REPLACE TRIGGER videos_search_words_sync
	AFTER DELETE OR UPDATE OF state, privacy, hidden_at, title, description, tags ON videos
	FOR EACH ROW EXECUTE FUNCTION cloudflix_search_words_sync();

-- A user's report of a video or a comment. A report is open until a
-- moderator acts on its target (resolved_at, and the action in
-- resolution); a user has one open report per target, which reporting
-- again changes. target_id names a video or a comment by kind, so it has
-- no foreign key; resolved reports stay as the history of a target.
CREATE TABLE IF NOT EXISTS reports (
	id          bigserial PRIMARY KEY,
	target_kind text NOT NULL CONSTRAINT reports_target_kind_check CHECK (target_kind IN ('video', 'comment')),
	target_id   text NOT NULL,
	reporter_id uuid NOT NULL REFERENCES users (id),
	reason      text NOT NULL CONSTRAINT reports_reason_check
	            CHECK (reason IN ('spam', 'abuse', 'sexual', 'violence', 'copyright', 'other')),
	note        text NOT NULL DEFAULT '',
	created_at  timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL,
	resolved_at timestamptz,
	resolution  text CONSTRAINT reports_resolution_check CHECK (resolution IN ('hide', 'dismiss'))
);

-- One open report per user and target; a target's open reports, newest
-- first, for the queue; a reporter's recent reports, for their rate.
CREATE UNIQUE INDEX IF NOT EXISTS reports_open_key ON reports (target_kind, target_id, reporter_id)
	WHERE resolved_at IS NULL;
CREATE INDEX IF NOT EXISTS reports_case_idx ON reports (target_kind, target_id, updated_at DESC)
	WHERE resolved_at IS NULL;
CREATE INDEX IF NOT EXISTS reports_reporter_idx ON reports (reporter_id, updated_at);

-- The moderation queue: one row per target with open reports, counting
-- them and keeping when the newest was filed, written with each report
-- so that the queue reads counters, not COUNT(*); report_reasons counts
-- them by reason. Both go when a moderator resolves the target's reports.
CREATE TABLE IF NOT EXISTS report_cases (
	target_kind text NOT NULL,
	target_id   text NOT NULL,
	reports     integer NOT NULL CONSTRAINT report_cases_reports_check CHECK (reports > 0),
	latest_at   timestamptz NOT NULL,
	PRIMARY KEY (target_kind, target_id)
);

CREATE INDEX IF NOT EXISTS report_cases_latest_idx ON report_cases (latest_at DESC, target_kind DESC, target_id DESC);

CREATE TABLE IF NOT EXISTS report_reasons (
	target_kind text NOT NULL,
	target_id   text NOT NULL,
	reason      text NOT NULL,
	reports     integer NOT NULL CONSTRAINT report_reasons_reports_check CHECK (reports > 0),
	PRIMARY KEY (target_kind, target_id, reason)
);

-- The audit log: every moderator's action, who (their id, and their
-- username as it was), what, on which target, when, why, and how many open
-- reports it resolved. It is append-only: the triggers below refuse to
-- change, remove or truncate an entry, whoever asks (only a superuser
-- who drops them first could). actor_id has no foreign key, so that no
-- change to users can reach into the log.
CREATE TABLE IF NOT EXISTS moderation_log (
	id          bigserial PRIMARY KEY,
	at          timestamptz NOT NULL,
	actor_id    uuid NOT NULL,
	actor_name  text NOT NULL,
	action      text NOT NULL CONSTRAINT moderation_log_action_check CHECK (action IN ('hide', 'restore', 'dismiss')),
	target_kind text NOT NULL,
	target_id   text NOT NULL,
	why         text NOT NULL,
	resolved    integer NOT NULL
);

CREATE OR REPLACE FUNCTION cloudflix_moderation_log_append_only() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	RAISE EXCEPTION 'the moderation log is append-only: % refused', TG_OP
		USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE OR REPLACE TRIGGER moderation_log_append_only
	BEFORE UPDATE OR DELETE ON moderation_log
	FOR EACH ROW EXECUTE FUNCTION cloudflix_moderation_log_append_only();
CREATE OR REPLACE TRIGGER moderation_log_no_truncate
	BEFORE TRUNCATE ON moderation_log
	FOR EACH STATEMENT EXECUTE FUNCTION cloudflix_moderation_log_append_only();

-- A moderator hides a comment: hidden_at is when (NULL while it shows),
-- and hidden_reason why, which its author reads. A hidden comment keeps
-- its place in its thread, and in the video's and the thread's counts:
-- readers other than its author and moderators are shown a placeholder
-- (video.CommentAsSeen), so the replies under it still read in order.
ALTER TABLE comments ADD COLUMN IF NOT EXISTS hidden_at timestamptz;
ALTER TABLE comments ADD COLUMN IF NOT EXISTS hidden_reason text NOT NULL DEFAULT '';

-- Watching while encoding: how many seconds, from the start, of a video
-- still processing its growing playlists list (0 until the first segment
-- of every rendition is stored; reset by each claim of its encode).
ALTER TABLE videos ADD COLUMN IF NOT EXISTS playable_seconds double precision NOT NULL DEFAULT 0;

-- Chunk jobs of videos encoded in chunks: a row is one chunk of the plan
-- the worker holding a video's encode made, the part of the source from
-- start_seconds to end_seconds (0: to its end), claimed by worker until
-- lease_until while encoding, its files under the key prefix output once
-- done.
CREATE TABLE IF NOT EXISTS encode_chunks (
	video_id      uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
	idx           integer NOT NULL,
	plan          text NOT NULL,
	start_seconds double precision NOT NULL,
	end_seconds   double precision NOT NULL,
	state         text NOT NULL DEFAULT 'pending' CONSTRAINT encode_chunks_state_check CHECK (state IN ('pending', 'encoding', 'done', 'failed')),
	worker        text NOT NULL DEFAULT '',
	lease_until   timestamptz,
	attempts      integer NOT NULL DEFAULT 0,
	output        text NOT NULL DEFAULT '',
	failure       text NOT NULL DEFAULT '',
	PRIMARY KEY (video_id, idx)
);
