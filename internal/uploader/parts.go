package uploader

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/sync/errgroup"
)

// signBatch is how many part URLs one signing request asks for: enough to
// keep the workers busy, few enough that a URL is used soon after it is
// made.
const signBatch = 16

func randDuration(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// sendParts PUTs every part of f that is not in done.
func (c *client) sendParts(ctx context.Context, o Options, f *os.File, s *session, done map[int32]bool) error {
	var todo []int32
	var already int64
	for n := int32(1); n <= s.PartCount; n++ {
		_, length := partRange(n, s.PartSize, s.SizeBytes)
		if done[n] {
			already += length
			continue
		}
		todo = append(todo, n)
	}
	bar := newProgress(o.Progress, s.SizeBytes, filepath.Base(f.Name()))
	bar.add(already)

	sg := &signer{c: c, videoID: s.VideoID, todo: todo, urls: map[int32]signedURL{}}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Parallel)
	for _, n := range todo {
		g.Go(func() error {
			if err := c.putPart(gctx, o.MaxRetries, sg, f, s, n, bar); err != nil {
				return fmt.Errorf("part %d: %w", n, err)
			}
			sg.finished(n)
			return nil
		})
	}
	err := g.Wait()
	bar.close(err == nil)
	return err
}

// putPart sends one part, retrying temporary failures.
func (c *client) putPart(ctx context.Context, retries int, sg *signer, f *os.File, s *session, n int32, bar *progress) error {
	off, length := partRange(n, s.PartSize, s.SizeBytes)
	sum, err := partMD5(f, off, length)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Asked on every attempt: a retry after a long backoff may need a
		// fresh URL.
		u, err := sg.url(ctx, n)
		if err != nil {
			return err
		}
		err = c.putOnce(ctx, u, io.NewSectionReader(f, off, length), length, sum, bar)
		if err == nil {
			return nil
		}
		if !retryable(ctx, err) || attempt >= retries {
			return err
		}
		if err := sleep(ctx, backoff(attempt, err)); err != nil {
			return err
		}
	}
}

// partMD5 is the part's Content-MD5, with which S3 checks the bytes it
// received. Without it a part cut short (its client killed mid-body) may be
// stored as if whole: versitygw v1.8.0 keeps it at its declared size with
// zeros for the missing bytes, and a resumed upload, which can only compare
// sizes, would keep it.
func partMD5(f *os.File, off, length int64) (string, error) {
	h := md5.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, off, length)); err != nil {
		return "", fmt.Errorf("read: %w", err)
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

func (c *client) putOnce(ctx context.Context, u string, part io.Reader, length int64, sum string, bar *progress) error {
	body := &countingReader{r: part, bar: bar}
	target, err := c.resolve(u)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, target, body)
	if err != nil {
		return err
	}
	// The body is a plain reader, so the length must be said: presigned
	// PUTs take no chunked bodies.
	req.ContentLength = length
	req.Header.Set("Content-MD5", sum)
	resp, err := c.http.Do(req)
	if err != nil {
		bar.add(-body.n.Load())
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		bar.add(-body.n.Load())
		return readError(resp)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return nil
}

// signer hands out part URLs, signing them in batches ahead of need and
// again when one is about to expire.
type signer struct {
	c       *client
	videoID string
	todo    []int32 // parts to send, in order

	mu   sync.Mutex // held while signing, so that a batch is asked once
	urls map[int32]signedURL
	sent map[int32]bool
}

type signedURL struct {
	url     string
	renewAt time.Time
}

func (sg *signer) finished(n int32) {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	if sg.sent == nil {
		sg.sent = map[int32]bool{}
	}
	sg.sent[n] = true
	delete(sg.urls, n)
}

func (sg *signer) url(ctx context.Context, n int32) (string, error) {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	now := time.Now()
	if u, ok := sg.urls[n]; ok && now.Before(u.renewAt) {
		return u.url, nil
	}
	batch := []int32{n}
	for _, m := range sg.todo {
		if len(batch) == signBatch {
			break
		}
		if m <= n || sg.sent[m] {
			continue
		}
		if u, ok := sg.urls[m]; ok && now.Before(u.renewAt) {
			continue
		}
		batch = append(batch, m)
	}
	parts, err := sg.c.sign(ctx, sg.videoID, batch)
	if err != nil {
		return "", err
	}
	for _, p := range parts {
		sg.urls[p.PartNumber] = signedURL{url: p.URL, renewAt: renewAt(now, p.ExpiresAt)}
	}
	u, ok := sg.urls[n]
	if !ok || u.url == "" {
		return "", fmt.Errorf("sign parts: server did not sign part %d", n)
	}
	return u.url, nil
}

// renewAt is when a URL valid until expires should be signed again: a
// margin before it expires, or halfway through a life shorter than two
// margins. A URL that already looks expired (clock skew) is used once and
// signed again next time.
func renewAt(now, expires time.Time) time.Time {
	life := expires.Sub(now)
	if life < 2*signMargin {
		return now.Add(life / 2)
	}
	return expires.Add(-signMargin)
}

// countingReader reports the bytes read from a part to the progress bar.
type countingReader struct {
	r   io.Reader
	bar *progress
	n   atomic.Int64
}

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n.Add(int64(n))
	cr.bar.add(int64(n))
	return n, err
}

// progress is the progress bar, or nothing when there is nowhere to draw.
// Bytes of a failed attempt are taken back, so the bar shows what is sent
// or being sent.
type progress struct {
	bar *progressbar.ProgressBar
}

func newProgress(w io.Writer, size int64, name string) *progress {
	if w == nil {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(name),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionFullWidth(),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)}
}

func (p *progress) add(n int64) {
	if p.bar != nil && n != 0 {
		_ = p.bar.Add64(n)
	}
}

// close draws the bar's last state: full on success, where it stopped on
// failure.
func (p *progress) close(ok bool) {
	if p.bar == nil {
		return
	}
	if ok {
		_ = p.bar.Finish()
		return
	}
	_ = p.bar.Exit()
}
