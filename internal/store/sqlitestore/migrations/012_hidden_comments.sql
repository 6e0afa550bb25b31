-- Version 12: moderators hide comments.
--
-- Migrate runs a version once, in the transaction that records it, so
-- nothing here needs to be idempotent.

-- A moderator hides a comment: hidden_at is when (NULL while it shows),
-- and hidden_reason why, which its author reads. A hidden comment keeps
-- its place in its thread, and in the video's and the thread's counts:
-- readers other than its author and moderators are shown a placeholder
-- (video.CommentAsSeen), so the replies under it still read in order.
ALTER TABLE comments ADD COLUMN hidden_at INTEGER;
ALTER TABLE comments ADD COLUMN hidden_reason TEXT NOT NULL DEFAULT '';
