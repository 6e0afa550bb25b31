-- Version 4: likes, and the score that ranks trending videos.
--
-- Migrate runs a version once, in the transaction that records it, so
-- nothing here needs to be idempotent.

-- A like is one signed-in user's, once per video; likes counts them, kept
-- with the video so that its info carries the count without a COUNT(*).
CREATE TABLE video_likes (
	video_id   TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (video_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX video_likes_user_idx ON video_likes (user_id);

ALTER TABLE videos ADD COLUMN likes INTEGER NOT NULL DEFAULT 0;

-- trending is the natural log of the video's decayed count of views and
-- likes, scaled to a fixed epoch (internal/video/trending.go), so that it
-- orders videos as their scores do now without being rewritten as time
-- passes; NULL before the first view or like.
ALTER TABLE videos ADD COLUMN trending REAL;

-- The trending list: ready public videos by score, an index scan.
CREATE INDEX videos_trending_idx ON videos (trending DESC, id DESC)
	WHERE state = 'ready' AND privacy = 'public' AND trending IS NOT NULL;
