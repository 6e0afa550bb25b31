-- Version 7: comments, and whether a video takes new ones.
--
-- Migrate runs a version once, in the transaction that records it, so
-- nothing here needs to be idempotent.

-- A comment is a signed-in user's text under a video: top-level (no
-- parent_id) or a reply to a top-level comment, one level deep. replies
-- counts a top-level comment's replies, kept with it so that a page of
-- comments carries the counts without a COUNT(*). Removing a top-level
-- comment removes its replies (ON DELETE CASCADE); the store moves the
-- video's count in the same transaction.
CREATE TABLE comments (
	id         TEXT PRIMARY KEY,
	video_id   TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
	parent_id  TEXT REFERENCES comments (id) ON DELETE CASCADE,
	author_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	body       TEXT NOT NULL,
	replies    INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	edited_at  INTEGER
) STRICT;

-- A video's threads newest first, and a thread's replies oldest first:
-- each page is a scan of one of these.
CREATE INDEX comments_video_idx ON comments (video_id, created_at DESC, id DESC)
	WHERE parent_id IS NULL;
CREATE INDEX comments_parent_idx ON comments (parent_id, created_at, id)
	WHERE parent_id IS NOT NULL;
CREATE INDEX comments_author_idx ON comments (author_id);

-- comments counts a video's comments, replies included; comments_off is
-- its owner refusing new ones.
ALTER TABLE videos ADD COLUMN comments INTEGER NOT NULL DEFAULT 0;
ALTER TABLE videos ADD COLUMN comments_off INTEGER NOT NULL DEFAULT 0;

-- What is left of a user's allowance of comments (video.CommentRate), a
-- token bucket kept in the database so that every replica of the platform
-- spends from the same one, in the transaction that posts the comment.
CREATE TABLE comment_allowances (
	user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	tokens  REAL NOT NULL,
	at      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
