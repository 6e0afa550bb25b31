package router

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/testenv"
)

// The benchmarks here measure the edge on local storage against what the
// machine does without it, in the same run and interleaved, so that a
// busy machine slows both alike:
//
//	go test -run '^$' -bench 'Upload|MediaRange' -benchtime 1x ./api-router
//
// BenchmarkUpload sends a generated file (-upload.bytes, 2 GiB) through
// the part URLs of the edge as `cloudflix serve` runs it, four parts at
// once, each with its Content-MD5 as the CLI sends it, then completes the
// upload, and times `cp` of the same file in the same folder.
// BenchmarkMediaRange reads a range (-media.range bytes) of a stored
// segment through the edge's signed media links, and the same range from
// the same bytes served by http.ServeContent alone.

var (
	uploadBytes = flag.Int64("upload.bytes", 2<<30, "bytes of the file BenchmarkUpload sends")
	mediaRange  = flag.Int64("media.range", 512<<10, "bytes of the range BenchmarkMediaRange reads")
)

// runEdge runs the edge on p as `cloudflix serve` does, with the
// configuration's defaults but no rate per client (the one client here
// stands for many), on a port of its own, until the test ends, and
// returns its address. The services are dialled lazily: nothing that
// needs one may be asked.
func runEdge(t testing.TB, p *platform.Process) string {
	t.Helper()
	var cfg config.Router
	if err := config.Defaults(&cfg); err != nil {
		t.Fatal(err)
	}
	addr, err := testenv.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTPAddr, cfg.ClientRate = addr, 0
	cfg.GRPC = config.GRPCAddrs{UploadTarget: "127.0.0.1:1", HostTarget: "127.0.0.1:1", SearchTarget: "127.0.0.1:1",
		EncodeTarget: "127.0.0.1:1", AccountTarget: "127.0.0.1:1"}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Run(ctx, cfg, p) }()
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	if err := testenv.WaitTCP(addr, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return addr
}

// residentBytes is this process's resident memory (VmRSS).
func residentBytes() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// peakResident samples residentBytes every 50 ms until stop is called,
// which returns the highest sample.
func peakResident() (stop func() int64) {
	var peak atomic.Int64
	peak.Store(residentBytes())
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				peak.Store(max(peak.Load(), residentBytes()))
			}
		}
	})
	return func() int64 {
		close(done)
		wg.Wait()
		return max(peak.Load(), residentBytes())
	}
}

// randomFile writes size random bytes to path without holding them.
func randomFile(tb testing.TB, path string, size int64) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	src := rand.NewChaCha8([32]byte{1})
	if _, err := io.Copy(f, io.LimitReader(src, size)); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

func BenchmarkUpload(b *testing.B) {
	p := platformtest.Process(b, platformtest.Embedded)
	addr := runEdge(b, p)
	objects, _, err := p.Objects(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	var up config.Upload
	if err := config.Defaults(&up); err != nil {
		b.Fatal(err)
	}
	// The source sits beside the data folder: the same disk.
	dir := b.TempDir()
	src := filepath.Join(dir, "source.bin")
	randomFile(b, src, *uploadBytes)
	b.Cleanup(func() { os.Remove(src) })
	b.SetBytes(*uploadBytes)

	var cpTook, cpSyncTook, upTook, sentTook time.Duration
	var peak, before int64
	for b.Loop() {
		b.StopTimer()
		copied := src + ".cp"
		began := time.Now()
		if out, err := exec.Command("cp", src, copied).CombinedOutput(); err != nil {
			b.Fatalf("cp: %v: %s", err, out)
		}
		cpTook += time.Since(began)
		if err := exec.Command("sync").Run(); err != nil {
			b.Fatal(err)
		}
		cpSyncTook += time.Since(began)
		os.Remove(copied)
		b.StartTimer()

		before = residentBytes()
		stop := peakResident()
		began = time.Now()
		key := "sources/" + testenv.Name("bench")
		partsTook, err := uploadFile(b.Context(), objects, addr, key, src, up.PartSize)
		if err != nil {
			b.Fatal(err)
		}
		upTook += time.Since(began)
		sentTook += partsTook
		peak = max(peak, stop())
		b.StopTimer()
		if err := objects.Delete(context.Background(), []string{key}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(cpTook.Seconds()/upTook.Seconds(), "x_cp")
	b.ReportMetric(cpSyncTook.Seconds()/upTook.Seconds(), "x_cp_sync")
	b.ReportMetric(sentTook.Seconds()/float64(b.N), "s_parts")
	b.ReportMetric((upTook-sentTook).Seconds()/float64(b.N), "s_complete")
	b.ReportMetric(cpTook.Seconds()/float64(b.N), "s_cp")
	b.ReportMetric(float64(before)/(1<<20), "MiB_rss_before")
	b.ReportMetric(float64(peak)/(1<<20), "MiB_rss_peak")
}

// uploadFile sends the file at path to key through the edge at addr as
// the CLI does (parts of partSize, four at once, each with Content-MD5),
// then completes the upload as the upload service does. It returns the
// time the parts took.
func uploadFile(ctx context.Context, objects blob.Store, addr, key, path string, partSize int64) (time.Duration, error) {
	began := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	id, err := objects.CreateMultipart(ctx, key, "video/mp4")
	if err != nil {
		return 0, err
	}
	count := int((fi.Size() + partSize - 1) / partSize)
	parts := make([]blob.Part, count)
	next := make(chan int)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(next)
		for n := range count {
			select {
			case next <- n:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for range 4 {
		g.Go(func() error {
			for n := range next {
				off := int64(n) * partSize
				size := min(partSize, fi.Size()-off)
				etag, err := putPartOf(gctx, objects, addr, key, id, f, n+1, off, size)
				if err != nil {
					return fmt.Errorf("part %d: %w", n+1, err)
				}
				parts[n] = blob.Part{Number: n + 1, ETag: etag, Size: size}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	sent := time.Since(began)
	_, err = objects.CompleteMultipart(ctx, key, id, parts)
	return sent, err
}

func putPartOf(ctx context.Context, objects blob.Store, addr, key, id string, f *os.File, n int, off, size int64) (string, error) {
	sum := md5.New()
	if _, err := io.Copy(sum, io.NewSectionReader(f, off, size)); err != nil {
		return "", err
	}
	u, err := objects.PresignPart(ctx, key, id, n, size, time.Hour)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+addr+u, io.NewSectionReader(f, off, size))
	if err != nil {
		return "", err
	}
	req.ContentLength = size
	req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", resp.Status, body)
	}
	return resp.Header.Get("ETag"), nil
}

func BenchmarkMediaRange(b *testing.B) {
	p := platformtest.Process(b, platformtest.Embedded)
	addr := runEdge(b, p)
	objects, _, err := p.Objects(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	// A segment four times the range, the range read from its middle.
	size := 4 * *mediaRange
	path := filepath.Join(b.TempDir(), "seg_000001.m4s")
	randomFile(b, path, size)
	const key = "videos/bench/hls/720p/seg_000001.m4s"
	if err := objects.PutFile(b.Context(), key, path, "video/iso.segment"); err != nil {
		b.Fatal(err)
	}
	edgeURL := "http://" + addr + (&api{mediaKey: p.Key.Derive("media links")}).signedMediaPath("bench", key, time.Now())

	// The ceiling: the same bytes from a file, by ServeContent alone.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	bare := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		fi, _ := f.Stat()
		http.ServeContent(w, r, "seg.m4s", fi.ModTime(), f)
	})}
	go bare.Serve(lis)
	b.Cleanup(func() { bare.Close() })
	ceilingURL := "http://" + lis.Addr().String() + "/seg.m4s"

	rng := fmt.Sprintf("bytes=%d-%d", *mediaRange, 2**mediaRange-1)
	want, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	want = want[*mediaRange : 2**mediaRange]
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func(u string) time.Duration {
		began := time.Now()
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Range", rng)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var body bytes.Buffer
		body.Grow(int(*mediaRange))
		_, err = io.Copy(&body, resp.Body)
		resp.Body.Close()
		took := time.Since(began)
		if err != nil || resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body.Bytes(), want) {
			b.Fatalf("GET %s: %v %s, %d bytes", u, err, resp.Status, body.Len())
		}
		return took
	}
	get(edgeURL)
	get(ceilingURL)
	b.SetBytes(*mediaRange)
	var edgeTook, ceilingTook time.Duration
	for b.Loop() {
		edgeTook += get(edgeURL)
		ceilingTook += get(ceilingURL)
	}
	b.ReportMetric(float64(b.N)*float64(*mediaRange)/edgeTook.Seconds()/1e6, "edge_MB/s")
	b.ReportMetric(float64(b.N)*float64(*mediaRange)/ceilingTook.Seconds()/1e6, "ceiling_MB/s")
	b.ReportMetric(ceilingTook.Seconds()/edgeTook.Seconds(), "x_ceiling")
}
