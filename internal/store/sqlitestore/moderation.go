package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cloudflix/cloudflix/internal/moderation"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

// Report implements [store.Moderation.Report]. Writes are serialized by
// the one writer connection, so the reporter's rate is counted and the
// report written with no other report of theirs in between.
func (s *Store) Report(ctx context.Context, r moderation.Report, rate moderation.ReportRate, at time.Time) (moderation.Report, error) {
	if err := store.CheckTarget(r.Target); err != nil {
		return moderation.Report{}, err
	}
	if !store.ValidID(r.ReporterID) {
		return moderation.Report{}, fmt.Errorf("report by %s: %w", r.ReporterID, video.ErrNotFound)
	}
	at = store.LikeTime(at)
	t := r.Target
	err := s.write(ctx, func(tx *sql.Tx, _ int64) error {
		err := tx.QueryRowContext(ctx, "SELECT username FROM users WHERE id = ?1", r.ReporterID).Scan(&r.Reporter)
		if errors.Is(err, sql.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil {
			return err
		}
		// The window is full when it holds rate.Reports reports: the
		// newest of them to leave it last is the rate.Reports-th newest.
		var filling int64
		err = tx.QueryRowContext(ctx, `
			SELECT updated_at FROM reports WHERE reporter_id = ?1 AND updated_at > ?2
			ORDER BY updated_at DESC LIMIT 1 OFFSET ?3`,
			r.ReporterID, at.Add(-rate.Per).UnixMicro(), max(rate.Reports-1, 0)).Scan(&filling)
		switch {
		case err == nil:
			return rate.Refuse(fromUnixMicros(filling), at)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		var (
			was       moderation.Reason
			createdAt int64
		)
		err = tx.QueryRowContext(ctx, `
			SELECT reason, created_at FROM reports
			WHERE target_kind = ?1 AND target_id = ?2 AND reporter_id = ?3 AND resolved_at IS NULL`,
			t.Kind, t.ID, r.ReporterID).Scan(&was, &createdAt)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			createdAt = at.UnixMicro()
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO reports (target_kind, target_id, reporter_id, reason, note, created_at, updated_at)
				VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)`, t.Kind, t.ID, r.ReporterID, r.Reason, r.Note, createdAt); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO report_cases (target_kind, target_id, reports, latest_at) VALUES (?1, ?2, 1, ?3)
				ON CONFLICT DO UPDATE SET reports = reports + 1, latest_at = max(latest_at, excluded.latest_at)`,
				t.Kind, t.ID, at.UnixMicro()); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if _, err := tx.ExecContext(ctx, `
				UPDATE reports SET reason = ?4, note = ?5, updated_at = ?6
				WHERE target_kind = ?1 AND target_id = ?2 AND reporter_id = ?3 AND resolved_at IS NULL`,
				t.Kind, t.ID, r.ReporterID, r.Reason, r.Note, at.UnixMicro()); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `
				UPDATE report_cases SET latest_at = max(latest_at, ?3) WHERE target_kind = ?1 AND target_id = ?2`,
				t.Kind, t.ID, at.UnixMicro()); err != nil {
				return err
			}
			if was != r.Reason {
				if err := uncountReason(ctx, tx, t, was); err != nil {
					return err
				}
			}
		}
		if was != r.Reason {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO report_reasons (target_kind, target_id, reason, reports) VALUES (?1, ?2, ?3, 1)
				ON CONFLICT DO UPDATE SET reports = reports + 1`, t.Kind, t.ID, r.Reason); err != nil {
				return err
			}
		}
		r.CreatedAt, r.UpdatedAt = fromUnixMicros(createdAt), at
		return nil
	})
	if err != nil {
		return moderation.Report{}, fmt.Errorf("report %s %s by %s: %w", t.Kind, t.ID, r.ReporterID, err)
	}
	return r, nil
}

// uncountReason takes one open report giving reason off a target's
// counts, dropping the count when it was the last.
func uncountReason(ctx context.Context, tx *sql.Tx, t moderation.Target, reason moderation.Reason) error {
	res, err := tx.ExecContext(ctx, `
		DELETE FROM report_reasons WHERE target_kind = ?1 AND target_id = ?2 AND reason = ?3 AND reports <= 1`,
		t.Kind, t.ID, reason)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	_, err = tx.ExecContext(ctx, `
		UPDATE report_reasons SET reports = reports - 1 WHERE target_kind = ?1 AND target_id = ?2 AND reason = ?3`,
		t.Kind, t.ID, reason)
	return err
}

// Cases implements [store.Moderation.Cases].
func (s *Store) Cases(ctx context.Context, limit int, after moderation.CasePosition) ([]moderation.Case, error) {
	if err := store.CheckCasePosition(after); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	cases, err := s.cases(ctx, limit, after)
	if err != nil {
		return nil, fmt.Errorf("moderation queue: %w", err)
	}
	return cases, nil
}

func (s *Store) cases(ctx context.Context, limit int, after moderation.CasePosition) ([]moderation.Case, error) {
	args := []any{limit}
	page := ""
	if after.Target.ID != "" {
		args = append(args, after.Latest.UnixMicro(), after.Target.Kind, after.Target.ID)
		page = "WHERE (latest_at, target_kind, target_id) < (?2, ?3, ?4)"
	}
	rows, err := s.r.QueryContext(ctx, `
		SELECT target_kind, target_id, reports, latest_at FROM report_cases `+page+`
		ORDER BY latest_at DESC, target_kind DESC, target_id DESC LIMIT ?1`, args...)
	if err != nil {
		return nil, err
	}
	var cases []moderation.Case
	err = eachRow(rows, func() error {
		var (
			c      moderation.Case
			latest int64
		)
		err := rows.Scan(&c.Target.Kind, &c.Target.ID, &c.Reports, &latest)
		c.Latest, c.Reasons = fromUnixMicros(latest), map[moderation.Reason]int{}
		cases = append(cases, c)
		return err
	})
	if err != nil || len(cases) == 0 {
		return cases, err
	}
	// The page's targets as a JSON array of [kind, id] pairs, for the
	// reasons and newest reports of all of them in one query each.
	index := make(map[moderation.Target]int, len(cases))
	pairs := make([][2]string, len(cases))
	for i, c := range cases {
		index[c.Target] = i
		pairs[i] = [2]string{string(c.Target.Kind), c.Target.ID}
	}
	targets, err := json.Marshal(pairs)
	if err != nil {
		return nil, err
	}
	rows, err = s.r.QueryContext(ctx, `
		SELECT r.target_kind, r.target_id, r.reason, r.reports
		FROM json_each(?1) AS t
		JOIN report_reasons r ON r.target_kind = t.value ->> 0 AND r.target_id = t.value ->> 1`, string(targets))
	if err != nil {
		return nil, err
	}
	err = eachRow(rows, func() error {
		var (
			t      moderation.Target
			reason moderation.Reason
			n      int
		)
		if err := rows.Scan(&t.Kind, &t.ID, &reason, &n); err != nil {
			return err
		}
		cases[index[t]].Reasons[reason] = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	rows, err = s.r.QueryContext(ctx, `
		SELECT r.target_kind, r.target_id, r.reporter_id, coalesce(u.username, ''), r.reason, r.note, r.created_at, r.updated_at
		FROM json_each(?1) AS t
		JOIN reports r ON r.id IN (
			SELECT id FROM reports
			WHERE target_kind = t.value ->> 0 AND target_id = t.value ->> 1 AND resolved_at IS NULL
			ORDER BY updated_at DESC LIMIT ?2)
		LEFT JOIN users u ON u.id = r.reporter_id
		ORDER BY r.updated_at DESC, r.id DESC`, string(targets), store.CaseReports)
	if err != nil {
		return nil, err
	}
	err = eachRow(rows, func() error {
		var (
			r                    moderation.Report
			createdAt, updatedAt int64
		)
		if err := rows.Scan(&r.Target.Kind, &r.Target.ID, &r.ReporterID, &r.Reporter, &r.Reason, &r.Note, &createdAt, &updatedAt); err != nil {
			return err
		}
		r.CreatedAt, r.UpdatedAt = fromUnixMicros(createdAt), fromUnixMicros(updatedAt)
		c := &cases[index[r.Target]]
		c.Recent = append(c.Recent, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cases, nil
}

// HideVideo implements [store.Moderation.HideVideo].
func (s *Store) HideVideo(ctx context.Context, d moderation.Decision) (video.Video, error) {
	return s.decideVideo(ctx, d, func(tx *sql.Tx, now int64) *sql.Row {
		return tx.QueryRowContext(ctx, `
			UPDATE videos SET hidden_at = ?2, hidden_reason = ?3
			WHERE id = ?1 AND state <> 'deleted' AND hidden_at IS NULL
			RETURNING `+videoColumns, d.Target.ID, now, d.Why)
	})
}

// RestoreVideo implements [store.Moderation.RestoreVideo].
func (s *Store) RestoreVideo(ctx context.Context, d moderation.Decision) (video.Video, error) {
	return s.decideVideo(ctx, d, func(tx *sql.Tx, _ int64) *sql.Row {
		return tx.QueryRowContext(ctx, `
			UPDATE videos SET hidden_at = NULL, hidden_reason = ''
			WHERE id = ?1 AND state <> 'deleted' AND hidden_at IS NOT NULL
			RETURNING `+videoColumns, d.Target.ID)
	})
}

// decideVideo changes a video with change, an UPDATE returning it (no row
// when the video is not as d needs), and logs d, resolving the video's open
// reports when d hides it.
func (s *Store) decideVideo(ctx context.Context, d moderation.Decision, change func(tx *sql.Tx, now int64) *sql.Row) (video.Video, error) {
	if err := store.CheckDecision(d, moderation.KindVideo); err != nil {
		return video.Video{}, err
	}
	var v video.Video
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		var err error
		v, err = scanVideo(change(tx, now))
		if errors.Is(err, sql.ErrNoRows) {
			return whyNotDecided(ctx, tx, d)
		}
		if err != nil {
			return err
		}
		return record(ctx, tx, d, now)
	})
	if err != nil {
		return video.Video{}, fmt.Errorf("%s video %s: %w", d.Action, d.Target.ID, err)
	}
	return v, nil
}

// HideComment implements [store.Moderation.HideComment].
func (s *Store) HideComment(ctx context.Context, d moderation.Decision) (video.Comment, error) {
	return s.decideComment(ctx, d, func(tx *sql.Tx, now int64) (sql.Result, error) {
		return tx.ExecContext(ctx, `
			UPDATE comments AS c SET hidden_at = ?2, hidden_reason = ?3
			WHERE c.id = ?1 AND c.hidden_at IS NULL AND `+liveVideo, d.Target.ID, now, d.Why)
	})
}

// RestoreComment implements [store.Moderation.RestoreComment].
func (s *Store) RestoreComment(ctx context.Context, d moderation.Decision) (video.Comment, error) {
	return s.decideComment(ctx, d, func(tx *sql.Tx, _ int64) (sql.Result, error) {
		return tx.ExecContext(ctx, `
			UPDATE comments AS c SET hidden_at = NULL, hidden_reason = ''
			WHERE c.id = ?1 AND c.hidden_at IS NOT NULL AND `+liveVideo, d.Target.ID)
	})
}

// decideComment changes a comment with change, an UPDATE of no row when
// the comment is not as d needs, and logs d, resolving the comment's open
// reports when d hides it.
func (s *Store) decideComment(ctx context.Context, d moderation.Decision, change func(tx *sql.Tx, now int64) (sql.Result, error)) (video.Comment, error) {
	if err := store.CheckDecision(d, moderation.KindComment); err != nil {
		return video.Comment{}, err
	}
	var c video.Comment
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		res, err := change(tx, now)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return whyNotDecided(ctx, tx, d)
		}
		c, err = scanComment(tx.QueryRowContext(ctx, `SELECT `+commentColumns+` FROM comments c WHERE c.id = ?1`, d.Target.ID))
		if err != nil {
			return err
		}
		return record(ctx, tx, d, now)
	})
	if err != nil {
		return video.Comment{}, fmt.Errorf("%s comment %s: %w", d.Action, d.Target.ID, err)
	}
	return c, nil
}

// whyNotDecided tells why hiding or restoring a video or a comment
// matched no row: it is absent, or it or its video is deleted, or it is
// hidden already (or not hidden).
func whyNotDecided(ctx context.Context, tx *sql.Tx, d moderation.Decision) error {
	var (
		state  video.State
		hidden bool
	)
	query := "SELECT state, hidden_at IS NOT NULL FROM videos WHERE id = ?1"
	if d.Target.Kind == moderation.KindComment {
		query = `SELECT v.state, c.hidden_at IS NOT NULL FROM comments c JOIN videos v ON v.id = c.video_id WHERE c.id = ?1`
	}
	err := tx.QueryRowContext(ctx, query, d.Target.ID).Scan(&state, &hidden)
	if errors.Is(err, sql.ErrNoRows) || state == video.StateDeleted {
		return video.ErrNotFound
	}
	if err != nil {
		return err
	}
	return store.WhyNotDecided(d.Target.Kind, hidden)
}

// DismissReports implements [store.Moderation.DismissReports].
func (s *Store) DismissReports(ctx context.Context, d moderation.Decision) (int, error) {
	if err := store.CheckTarget(d.Target); err != nil {
		return 0, err
	}
	var resolved int
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		var err error
		if resolved, err = resolveReports(ctx, tx, d, now); err != nil {
			return err
		}
		if resolved == 0 {
			return fmt.Errorf("no open report: %w", video.ErrNotFound)
		}
		return appendLog(ctx, tx, d, now, resolved)
	})
	if err != nil {
		return 0, fmt.Errorf("dismiss reports of %s %s: %w", d.Target.Kind, d.Target.ID, err)
	}
	return resolved, nil
}

// record writes a hide or restore decision: a hide resolves the
// target's open reports, and either goes in the audit log with how many
// it resolved.
func record(ctx context.Context, tx *sql.Tx, d moderation.Decision, now int64) error {
	resolved := 0
	if d.Action == moderation.ActionHide {
		var err error
		if resolved, err = resolveReports(ctx, tx, d, now); err != nil {
			return err
		}
	}
	return appendLog(ctx, tx, d, now, resolved)
}

// resolveReports closes the open reports of d's target with d's action,
// drops its case from the queue and returns how many it closed.
func resolveReports(ctx context.Context, tx *sql.Tx, d moderation.Decision, now int64) (int, error) {
	res, err := tx.ExecContext(ctx, `
		UPDATE reports SET resolved_at = ?3, resolution = ?4
		WHERE target_kind = ?1 AND target_id = ?2 AND resolved_at IS NULL`,
		d.Target.Kind, d.Target.ID, now, d.Action)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	for _, table := range []string{"report_cases", "report_reasons"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE target_kind = ?1 AND target_id = ?2`,
			d.Target.Kind, d.Target.ID); err != nil {
			return 0, err
		}
	}
	return int(n), nil
}

// appendLog writes d to the audit log with its actor's username; an actor
// who is no user gives ErrNotFound.
func appendLog(ctx context.Context, tx *sql.Tx, d moderation.Decision, now int64, resolved int) error {
	res, err := tx.ExecContext(ctx, `
		INSERT INTO moderation_log (at, actor_id, actor_name, action, target_kind, target_id, why, resolved)
		SELECT ?1, id, username, ?3, ?4, ?5, ?6, ?7 FROM users WHERE id = ?2`,
		now, d.ActorID, d.Action, d.Target.Kind, d.Target.ID, d.Why, resolved)
	if err != nil {
		return err
	}
	return changed(res, nil, fmt.Errorf("moderator %s: %w", d.ActorID, video.ErrNotFound))
}

// AuditLog implements [store.Moderation.AuditLog].
func (s *Store) AuditLog(ctx context.Context, limit int, before int64) ([]moderation.Entry, error) {
	if limit <= 0 {
		return nil, nil
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.r.QueryContext(ctx, `
		SELECT id, at, actor_id, actor_name, action, target_kind, target_id, why, resolved
		FROM moderation_log WHERE id < ?2 ORDER BY id DESC LIMIT ?1`, limit, before)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	var out []moderation.Entry
	err = eachRow(rows, func() error {
		var (
			e  moderation.Entry
			at int64
		)
		d := &e.Decision
		err := rows.Scan(&e.ID, &at, &d.ActorID, &e.Actor, &d.Action, &d.Target.Kind, &d.Target.ID, &d.Why, &e.Resolved)
		d.At = fromUnixMicros(at)
		out = append(out, e)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return out, nil
}
