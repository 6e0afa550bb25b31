package router

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/ops"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/testenv"
)

// slowClients is how many connections trickle their bodies, as the issue
// saw: most at the API, some at part uploads (under the limit per client
// address, which would refuse the rest at once).
const (
	slowAPIClients  = 40
	slowPartClients = 10
	trickleEvery    = 500 * time.Millisecond
)

// Connections that send their body a byte at a time are cut: an API
// request by the read timeout, a part upload by the transfer floor; while
// a part upload at a decent rate goes on long past the read timeout. The
// edge runs as `cloudflix serve` runs it, on its own port.
func TestSlowClientsAreCut(t *testing.T) {
	t.Parallel()
	p := platformtest.Process(t, platformtest.Embedded)
	addr, err := testenv.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Router{
		HTTPAddr:     addr,
		ReadTimeout:  2 * time.Second,
		WriteTimeout: 5 * time.Second,
		MinRate:      64 << 10,
		RateWindow:   time.Second,
		// Dialled lazily: no request here reaches a service.
		GRPC: config.GRPCAddrs{UploadTarget: "127.0.0.1:1", HostTarget: "127.0.0.1:1", SearchTarget: "127.0.0.1:1",
			EncodeTarget: "127.0.0.1:1", AccountTarget: "127.0.0.1:1"},
	}
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
	objects, _, err := p.Objects(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	partURL := func(size int64) string {
		t.Helper()
		key := "sources/" + testenv.Name("slow")
		id, err := objects.CreateMultipart(t.Context(), key, "video/mp4")
		if err != nil {
			t.Fatal(err)
		}
		u, err := objects.PresignPart(t.Context(), key, id, 1, size, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}

	type trickle struct {
		what, target string
	}
	var slow []trickle
	for range slowAPIClients {
		slow = append(slow, trickle{"API request", "/api/v1/uploads"})
	}
	for range slowPartClients {
		slow = append(slow, trickle{"part upload", partURL(1 << 20)})
	}
	start := time.Now()
	cut := make([]time.Duration, len(slow))
	var wg sync.WaitGroup
	for i, s := range slow {
		wg.Go(func() { cut[i] = trickleBody(t, addr, s.target) })
	}

	// Meanwhile a part of 4 MiB goes at 1 MiB/s: twice the read timeout,
	// sixteen times the floor.
	part := make([]byte, 4<<20)
	_, _ = rand.Read(part)
	began := time.Now()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, "http://"+addr+partURL(int64(len(part))), &pacedReader{r: bytes.NewReader(part), rate: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(part))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("a part at 1 MiB/s: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a part at 1 MiB/s: %s (%s), want 200", resp.Status, body)
	}
	took := time.Since(began)
	if took < cfg.ReadTimeout {
		t.Errorf("the paced part took %v, less than the read timeout: it proves nothing", took)
	}

	wg.Wait()
	// A part upload goes within a window or two; an API request within the
	// read timeout. The bound leaves room for a loaded machine.
	const bound = 10 * time.Second
	for i, s := range slow {
		if cut[i] > bound {
			t.Errorf("a slow %s was still open %v after it began, want it cut within %v", s.what, cut[i], bound)
		}
	}
	t.Logf("%d slow connections cut after at most %v (API %v, parts %v); a 4 MiB part at 1 MiB/s took %v, all %v",
		len(slow), slices.Max(cut), slices.Max(cut[:slowAPIClients]), slices.Max(cut[slowAPIClients:]), took, time.Since(start))
}

// trickleBody sends a PUT or POST to target on a connection of its own
// whose body comes one byte every trickleEvery, and returns how long the
// server kept the connection open. It gives up after a minute.
func trickleBody(t *testing.T, addr, target string) time.Duration {
	t.Helper()
	began := time.Now()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return 0
	}
	defer conn.Close()
	_ = conn.SetDeadline(began.Add(time.Minute))
	method := http.MethodPut
	if target == "/api/v1/uploads" {
		method = http.MethodPost
	}
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n", method, target, addr)
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		_, _ = io.Copy(io.Discard, bufio.NewReader(conn))
	}()
	tick := time.NewTicker(trickleEvery)
	defer tick.Stop()
	for {
		select {
		case <-closed:
			return time.Since(began)
		case <-tick.C:
			// White space: the API's JSON decoder waits for more.
			if _, err := conn.Write([]byte(" ")); err != nil {
				<-closed
				return time.Since(began)
			}
		}
	}
}

// pacedReader yields r's bytes at rate bytes a second, in slices of a
// sixteenth of a second, as a client on a link of that speed would.
type pacedReader struct {
	r     io.Reader
	rate  int
	start time.Time
	sent  int
}

func (p *pacedReader) Read(b []byte) (int, error) {
	if p.start.IsZero() {
		p.start = time.Now()
	}
	// The link's pace is what is under test: wait until these bytes are due.
	if due := p.start.Add(time.Duration(p.sent) * time.Second / time.Duration(p.rate)); time.Until(due) > 0 {
		time.Sleep(time.Until(due))
	}
	n, err := p.r.Read(b[:min(len(b), p.rate/16)])
	p.sent += n
	return n, err
}

// Media goes on as long as its bytes keep moving, past the write timeout,
// and a client that stops reading is cut within a window or two.
func TestMediaWritesFollowTheBytes(t *testing.T) {
	t.Parallel()
	p := platformtest.Process(t, platformtest.Embedded)
	store, _, err := p.Objects(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// More than the kernel's socket buffers hold on both sides, so a
	// client that stops reading stalls the server.
	segment := make([]byte, 48<<20)
	_, _ = rand.Read(segment)
	if err := store.Put(t.Context(), segmentKey, bytes.NewReader(segment), int64(len(segment)), "video/iso.segment"); err != nil {
		t.Fatal(err)
	}
	addr := serveEdge(t, Options{Media: store, Logger: discardLogger(), Clients: Clients{Host: privacyHost()},
		Transfer: Transfer{MinRate: 1 << 20, Window: time.Second}}, ops.Timeouts{ReadHeader: time.Second, Read: time.Second, Write: time.Second, Idle: time.Second})

	// A reader at 16 MiB/s takes three seconds, three write timeouts.
	resp, err := http.Get("http://" + addr + "/media/" + segmentKey)
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	n, err := io.Copy(io.Discard, &pacedReader{r: resp.Body, rate: 16 << 20})
	resp.Body.Close()
	if err != nil || n != int64(len(segment)) {
		t.Fatalf("read %d of %d bytes at 16 MiB/s: %v", n, len(segment), err)
	}
	if took := time.Since(began); took < 2*time.Second {
		t.Fatalf("the paced read took %v, not beyond the write timeout: it proves nothing", took)
	}

	// A reader that stops after the first bytes is cut: what it reads
	// later ends early.
	resp, err = http.Get("http://" + addr + "/media/" + segmentKey)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	// The stall is the behaviour under test: three windows.
	time.Sleep(3 * time.Second)
	n, err = io.Copy(io.Discard, resp.Body)
	if err == nil || n+64<<10 >= int64(len(segment)) {
		t.Fatalf("a client that stopped reading for 3s then got %d more bytes (%v), want the connection cut", n, err)
	}
}

// serveEdge serves the edge built from o on a loopback port, as ops serves
// it, until the test ends, and returns its address.
func serveEdge(t *testing.T, o Options, timeouts ops.Timeouts) string {
	t.Helper()
	addr, err := testenv.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	h := edge(t, o)
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ops.ServeHTTP(ctx, addr, h, time.Second, timeouts) }()
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	if err := testenv.WaitTCP(addr, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return addr
}

// Part uploads from one client address beyond partsPerClient are refused
// at once, with Retry-After and the CORS header a browser needs to read
// the answer; another address is not held up by them.
func TestPartUploadsPerClientAreBounded(t *testing.T) {
	t.Parallel()
	var (
		mu      sync.Mutex
		inside  int
		release = make(chan struct{})
	)
	parts := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inside++
		mu.Unlock()
		<-release
		w.WriteHeader(http.StatusOK)
	})
	srv := httptest.NewServer(edge(t, Options{UploadParts: parts, TrustedProxies: []string{"127.0.0.1"}, Logger: discardLogger()}))
	t.Cleanup(srv.Close)
	put := func(client string) *http.Response {
		req, err := http.NewRequest(http.MethodPut, srv.URL+"/storage/parts/upload/1", strings.NewReader("part"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Forwarded-For", client)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Error(err)
			return nil
		}
		resp.Body.Close()
		return resp
	}
	var wg sync.WaitGroup
	start := func(client string) {
		wg.Go(func() {
			if resp := put(client); resp != nil && resp.StatusCode != http.StatusOK {
				t.Errorf("a part upload from %s within the limit: %s", client, resp.Status)
			}
		})
	}
	waitInside := func(want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			n := inside
			mu.Unlock()
			if n == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d part uploads reached storage, want %d", n, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for range partsPerClient {
		start("192.0.2.1")
	}
	waitInside(partsPerClient)
	resp := put("192.0.2.1")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("one more part upload from the same address: %s %v, want 429 with Retry-After and CORS", resp.Status, resp.Header)
	}
	start("192.0.2.2")
	waitInside(partsPerClient + 1)
	close(release)
	wg.Wait()
	if resp := put("192.0.2.1"); resp.StatusCode != http.StatusOK {
		t.Errorf("a part upload once the others ended: %s", resp.Status)
	}
}

// fileSink is a response whose connection takes readers the way a TCP
// connection does (ReadFrom), and counts the bytes that reached it as a
// file within one io.LimitedReader: those sendfile(2) sends.
type fileSink struct {
	*httptest.ResponseRecorder
	fromFile, copied int64
	largest          int64
}

func (s *fileSink) ReadFrom(src io.Reader) (int64, error) {
	lr, limited := src.(*io.LimitedReader)
	n, err := io.Copy(struct{ io.Writer }{s.ResponseRecorder}, src)
	if _, file := lr.R.(syscall.Conn); limited && file {
		s.fromFile += n
		s.largest = max(s.largest, n)
	} else {
		s.copied += n
	}
	return n, err
}

// A media answer reaches the connection as chunks of the file itself, so
// that net/http sends it with sendfile, each chunk at most a quantum so
// that the write deadline still follows the bytes.
func TestPacedWritesHandTheFileToTheConnection(t *testing.T) {
	t.Parallel()
	data := make([]byte, 3<<20)
	_, _ = rand.Read(data)
	path := filepath.Join(t.TempDir(), "seg.m4s")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sink := &fileSink{ResponseRecorder: httptest.NewRecorder()}
	tr := Transfer{MinRate: 64 << 10, Window: time.Second} // a quantum of 64 KiB
	w := &pacedWriter{ResponseWriter: sink, rc: http.NewResponseController(sink), window: tr.Window, quantum: tr.quantum()}
	r := httptest.NewRequest("GET", "/media/videos/v1/seg.m4s", nil)
	r.Header.Set("Range", "bytes=1000-2000999")
	http.ServeContent(w, r, "seg.m4s", time.Now(), f)
	if sink.Code != http.StatusPartialContent {
		t.Fatalf("status %d", sink.Code)
	}
	if !bytes.Equal(sink.Body.Bytes(), data[1000:2001000]) {
		t.Fatal("the body is not the range asked for")
	}
	if sink.fromFile != 2000000 || sink.copied != 0 {
		t.Errorf("%d bytes reached the connection as the file, %d otherwise; want all 2000000 as the file", sink.fromFile, sink.copied)
	}
	if sink.largest > tr.quantum() {
		t.Errorf("a chunk of %d bytes, more than the quantum %d", sink.largest, tr.quantum())
	}
}
