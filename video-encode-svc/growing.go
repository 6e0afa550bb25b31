package encodesvc

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/ladder"
	"github.com/cloudflix/cloudflix/internal/transcode"
	"github.com/cloudflix/cloudflix/internal/video"
)

// A video is watchable while it encodes. As ffmpeg completes a segment of
// a rendition the worker stores it, then publishes that rendition's EVENT
// playlist listing the stored segments, and once every rendition has one,
// a master playlist with bandwidth bounds; only then does the database say
// the video is playable, and how far. When the encode ends the same keys
// get the VOD playlists and the measured master playlist, naming the same
// segments, which are not stored again.
//
// Each claim of an encode names its segment files with a tag of its own
// (fileTag), so a dead attempt's segments, or an earlier encode's (a
// re-encode), are never listed by this one's playlists nor overwritten
// under a name a player or cache already holds; they are removed once this
// encode has published everything (sweep). The names every attempt shares,
// the playlists, are written only while this worker certainly holds the
// lease (tenure), so a worker that lost it without knowing yet cannot
// write over the next holder's playlists.

// pollEvery is how often the worker looks for segments ffmpeg has
// completed: a quarter of a segment, so a segment waits at most that long
// before it is stored.
const pollEvery = transcode.SegmentSeconds * time.Second / 4

// uploadsAtOnce bounds the parallel uploads of one encode.
const uploadsAtOnce = 4

// fileTag is the tag of the files of the encode's claim attempt: the
// attempt for a person reading the keys, and random bytes, since a
// re-encode counts its attempts from 1 again.
func fileTag(attempt int) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return fmt.Sprintf("a%d-%s-", attempt, hex.EncodeToString(b))
}

// tenure knows until when this worker certainly holds an encode's lease:
// the time it asked for the lease (claim or renewal) plus the lease's
// length, since the database starts the lease when it answers, later, and
// no one else can claim the encode before it runs out.
type tenure struct {
	lease time.Duration
	mu    sync.Mutex
	until time.Time
}

func newTenure(asked time.Time, lease time.Duration) *tenure {
	return &tenure{lease: lease, until: asked.Add(lease)}
}

// renewed records a renewal asked for at asked.
func (t *tenure) renewed(asked time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if until := asked.Add(t.lease); until.After(t.until) {
		t.until = until
	}
}

// errNotHeld: the lease may have run out; a shared name is not written.
var errNotHeld = errors.New("the encode lease may have run out")

// fenced is ctx ending a quarter of the lease before the lease could run
// out, for a write that must end while the lease is held: the margin
// covers a storage server finishing a request its client gave up on.
// Renewals come every third of a lease, so a live worker is always well
// inside it.
func (t *tenure) fenced(ctx context.Context) (context.Context, context.CancelFunc, error) {
	t.mu.Lock()
	end := t.until.Add(-t.lease / 4)
	t.mu.Unlock()
	if !time.Now().Before(end) {
		return nil, nil, errNotHeld
	}
	c, cancel := context.WithDeadline(ctx, end)
	return c, cancel, nil
}

// publication publishes one encode's renditions as ffmpeg writes them into
// dir (its HLS folder, one sub-folder per rung).
type publication struct {
	w      *Worker
	id     string
	src    transcode.Source
	rungs  []ladder.Rung
	dir    string
	tenure *tenure
	target int // EXT-X-TARGETDURATION of the growing playlists

	stored   []transcode.Written // per rung: the init and the segments stored, in order
	listed   []int               // per rung: segments its published playlist lists
	master   bool                // the growing master playlist is published
	playable float64             // seconds recorded as playable
	keys     map[string]bool     // every key this encode stored
}

func (w *Worker) newPublication(id string, src transcode.Source, rungs []ladder.Rung, dir string, t *tenure) *publication {
	return &publication{
		w: w, id: id, src: src, rungs: rungs, dir: dir, tenure: t, target: transcode.TargetSeconds(src),
		stored: make([]transcode.Written, len(rungs)), listed: make([]int, len(rungs)), keys: map[string]bool{},
	}
}

func (p *publication) key(rung, name string) string {
	return video.HLSPrefix(p.id) + rung + "/" + name
}

// follow publishes what ffmpeg completes, every pollEvery, until stop is
// called; stop returns once the last round has ended. A round that fails
// is logged and retried by the next one: what was not stored is still on
// disk.
func (p *publication) follow(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(pollEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := p.grow(ctx); err != nil && ctx.Err() == nil {
				if errors.Is(err, video.ErrLeaseLost) {
					return // the renewal loop ends the encode
				}
				slog.WarnContext(ctx, "publishing the encoded part failed, will retry", "video_id", p.id, "err", err)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// grow stores the segments ffmpeg completed since the last round, then
// publishes the playlists that list them and records how far the video can
// be played.
func (p *publication) grow(ctx context.Context) error {
	if err := p.store(ctx, false); err != nil {
		return err
	}
	for i, r := range p.rungs {
		st := p.stored[i]
		if len(st.Segments) == p.listed[i] {
			continue
		}
		pl, err := transcode.EventPlaylist(p.target, st.Init, st.Segments)
		if err != nil {
			return fmt.Errorf("playlist of %s: %w", r.Name, err)
		}
		if err := p.putShared(ctx, p.key(r.Name, "index.m3u8"), pl); err != nil {
			return err
		}
		p.listed[i] = len(st.Segments)
	}
	if !p.master {
		if err := p.publishGrowingMaster(ctx); err != nil || !p.master {
			return err
		}
	}
	seconds := p.playableSeconds()
	if seconds <= p.playable {
		return nil
	}
	if err := p.w.store.SetPlayable(ctx, p.id, p.w.set.WorkerID, seconds, p.src.DurationSeconds); err != nil {
		return fmt.Errorf("record the playable part: %w", err)
	}
	p.playable = seconds
	p.w.cache.Forget(ctx, p.id)
	return nil
}

// publishGrowingMaster publishes the master playlist once every rendition
// has a playlist to point at.
func (p *publication) publishGrowingMaster(ctx context.Context) error {
	rs := make([]video.Rendition, len(p.rungs))
	for i, r := range p.rungs {
		if p.listed[i] == 0 {
			return nil
		}
		var err error
		if rs[i], err = transcode.GrowingRendition(r, p.src, filepath.Join(p.dir, r.Name, p.stored[i].Init)); err != nil {
			return fmt.Errorf("growing master playlist: %w", err)
		}
	}
	var b bytes.Buffer
	if err := transcode.WriteGrowingMaster(&b, rs); err != nil {
		return err
	}
	if err := p.putShared(ctx, video.MasterPlaylistKey(p.id), b.Bytes()); err != nil {
		return err
	}
	p.master = true
	return nil
}

// playableSeconds is how far every published playlist reaches: a player
// may switch renditions anywhere up to there.
func (p *publication) playableSeconds() float64 {
	least := -1.0
	for i := range p.rungs {
		var s float64
		for _, seg := range p.stored[i].Segments[:p.listed[i]] {
			s += seg.Seconds
		}
		if least < 0 || s < least {
			least = s
		}
	}
	return max(least, 0)
}

// store uploads the init segments and media segments ffmpeg has completed
// and not yet stored: those that may be listed while growing
// (transcode.Written.Growing), or every one once ffmpeg has ended (all).
func (p *publication) store(ctx context.Context, all bool) error {
	type upload struct{ rung, name string }
	var inits, segs []upload
	written := make([]transcode.Written, len(p.rungs))
	for i, r := range p.rungs {
		wr, err := transcode.WrittenSoFar(filepath.Join(p.dir, r.Name))
		if err != nil {
			return err
		}
		if all && !wr.Ended {
			return fmt.Errorf("rendition %s: ffmpeg ended without ending its playlist", r.Name)
		}
		written[i] = wr
		if p.stored[i].Init == "" && wr.Init != "" {
			inits = append(inits, upload{r.Name, wr.Init})
		}
		ready := wr.Growing()
		if all {
			ready = wr.Segments
		}
		for _, s := range ready[min(len(p.stored[i].Segments), len(ready)):] {
			segs = append(segs, upload{r.Name, s.Name})
		}
	}
	// The init segments first: a segment is of no use without its own.
	for _, batch := range [][]upload{inits, segs} {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(uploadsAtOnce)
		for _, u := range batch {
			key := p.key(u.rung, u.name)
			g.Go(func() error {
				if err := p.w.objects.PutFile(gctx, key, filepath.Join(p.dir, u.rung, u.name), video.OutputType(u.name)); err != nil {
					return fmt.Errorf("upload %s: %w", key, err)
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		for _, u := range batch {
			p.keys[p.key(u.rung, u.name)] = true
		}
	}
	for i := range p.rungs {
		wr := written[i]
		if wr.Init != "" {
			p.stored[i].Init = wr.Init
		}
		n := len(wr.Growing())
		if all {
			n = len(wr.Segments)
		}
		if n > len(p.stored[i].Segments) {
			p.stored[i].Segments = wr.Segments[:n]
		}
	}
	return nil
}

// putShared stores body under key, a name every attempt of the encode
// writes, only while the lease is certainly held (tenure.fenced).
func (p *publication) putShared(ctx context.Context, key string, body []byte) error {
	fctx, cancel, err := p.tenure.fenced(ctx)
	if err != nil {
		return fmt.Errorf("publish %s: %w", key, err)
	}
	defer cancel()
	if err := p.w.objects.Put(fctx, key, bytes.NewReader(body), int64(len(body)), video.OutputType(key)); err != nil {
		return fmt.Errorf("publish %s: %w", key, err)
	}
	p.keys[key] = true
	return nil
}

// putSharedFile is putShared of a file's contents.
func (p *publication) putSharedFile(ctx context.Context, key, path string) error {
	fctx, cancel, err := p.tenure.fenced(ctx)
	if err != nil {
		return fmt.Errorf("publish %s: %w", key, err)
	}
	defer cancel()
	if err := p.w.objects.PutFile(fctx, key, path, video.OutputType(path)); err != nil {
		return fmt.Errorf("publish %s: %w", key, err)
	}
	p.keys[key] = true
	return nil
}

// finish publishes the ended encode: the segments not stored yet, the VOD
// playlists where the growing ones were, the thumbnail and storyboard, and
// the measured master playlist last (a player that finds it finds every
// rendition it names). Then it removes what earlier encodes or attempts
// left under the renditions' folders.
func (p *publication) finish(ctx context.Context, out rendered) error {
	if err := p.store(ctx, true); err != nil {
		return err
	}
	for i, r := range p.rungs {
		st := p.stored[i]
		if err := p.putShared(ctx, p.key(r.Name, "index.m3u8"), transcode.VODPlaylist(p.target, st.Init, st.Segments)); err != nil {
			return err
		}
	}
	for key, path := range map[string]string{
		video.ThumbnailKey(p.id):     out.thumb,
		video.StoryboardKey(p.id):    out.sprite,
		video.StoryboardVTTKey(p.id): out.vtt,
	} {
		if err := p.putSharedFile(ctx, key, path); err != nil {
			return err
		}
	}
	if err := p.publishPlaylists(ctx, out.renditions); err != nil {
		return err
	}
	return p.sweep(ctx)
}

// sweep deletes every object under the video's HLS folder that this encode
// did not store: a dead attempt's segments, or a re-encoded video's old
// ones. Nothing this encode's playlists name is touched.
func (p *publication) sweep(ctx context.Context) error {
	var stale []string
	err := p.w.objects.List(ctx, video.HLSPrefix(p.id), false, func(o blob.ObjectInfo) error {
		if !p.keys[o.Key] {
			stale = append(stale, o.Key)
		}
		return nil
	})
	if err == nil && len(stale) > 0 {
		err = p.w.objects.Delete(ctx, stale)
	}
	if err != nil {
		return fmt.Errorf("remove stale renditions: %w", err)
	}
	return nil
}
