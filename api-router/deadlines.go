package router

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/cloudflix/cloudflix/internal/admit"
)

// The edge's deadlines by route class. The server's own (ops.Timeouts,
// from the configuration) bound every request: its headers and body must
// arrive within the read timeout and its answer go out within the write
// timeout, which is what API requests get. Three routes move them for
// their own request:
//
//   - a part upload (local storage's /storage/parts/) may take as long as
//     its bytes need, but no longer: its read deadline follows the body,
//     which must average Transfer.MinRate over every Transfer.Window;
//   - media answers are large, so their write deadline follows the bytes
//     the same way;
//   - completing an upload joins its parts, which takes time in
//     proportion to the file: its answer may take completeTimeout.

// Transfer is the slowest a long transfer may go: at least MinRate bytes
// a second, averaged over each Window, or its connection is cut.
type Transfer struct {
	MinRate int64
	Window  time.Duration
}

// DefaultTransfer is the floor when Options leave it unset.
var DefaultTransfer = Transfer{MinRate: 16 << 10, Window: 20 * time.Second}

// quantum is the bytes that must move within each window.
func (t Transfer) quantum() int64 {
	return max(1, t.MinRate*int64(t.Window)/int64(time.Second))
}

// completeTimeout bounds the answer to a completed upload: joining the
// parts of the largest file on a slow disk.
const completeTimeout = 15 * time.Minute

// partsPerClient bounds the part uploads under way at once from one client
// address: four uploads of CloudFlix's clients, which send four parts at
// once, or many people behind one address.
const partsPerClient = 16

// paceReads makes the read deadline of r's connection follow r's body:
// each quantum of it must arrive within a window of the last. It does
// nothing on a connection whose deadlines cannot be moved.
func (t Transfer) paceReads(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(t.Window)) != nil {
		return
	}
	// Nothing is written while the body arrives, however long it takes;
	// the answer then gets a window.
	_ = rc.SetWriteDeadline(time.Time{})
	r.Body = &pacedBody{ReadCloser: r.Body, rc: rc, window: t.Window, quantum: t.quantum(), left: r.ContentLength}
}

type pacedBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	window  time.Duration
	quantum int64
	moved   int64 // bytes since the deadline last moved
	left    int64 // bytes still to come; -1: unknown
	done    bool
}

func (b *pacedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.moved += int64(n)
	if b.left > 0 {
		b.left -= int64(n)
	}
	switch {
	case b.done:
	case err != nil || b.left == 0:
		// Once the body has ended the server watches the idle connection
		// without a read deadline; one set now would cut it mid-answer.
		b.done = true
		_ = b.rc.SetWriteDeadline(time.Now().Add(b.window))
	case b.moved >= b.quantum:
		b.moved = 0
		_ = b.rc.SetReadDeadline(time.Now().Add(b.window))
	}
	return n, err
}

// paceWrites returns w with its connection's write deadline following what
// is written: each quantum gets a window of its own. It returns w as it is
// on a connection whose deadlines cannot be moved.
func (t Transfer) paceWrites(w http.ResponseWriter) http.ResponseWriter {
	rc := http.NewResponseController(w)
	if rc.SetWriteDeadline(time.Now().Add(t.Window)) != nil {
		return w
	}
	return &pacedWriter{ResponseWriter: w, rc: rc, window: t.Window, quantum: t.quantum()}
}

type pacedWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	window  time.Duration
	quantum int64
	moved   int64 // bytes since the deadline last moved
}

// Write writes p a quantum at a time, so that one large write is held to
// the rate as a stream of small ones is.
func (w *pacedWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if w.moved >= w.quantum {
			w.moved = 0
			_ = w.rc.SetWriteDeadline(time.Now().Add(w.window))
		}
		n, err := w.ResponseWriter.Write(p[:min(int64(len(p)), w.quantum-w.moved)])
		written += n
		w.moved += int64(n)
		p = p[n:]
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// Unwrap lets http.ResponseController reach the connection.
func (w *pacedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ReadFrom moves src a quantum at a time through the connection's own
// ReadFrom, so that a file goes out with sendfile(2), as ServeContent
// would send it without pacing: net/http hands the socket a reader that is
// a file, or one io.LimitedReader of a file, and ServeContent's copy is
// already that LimitedReader, which is unwrapped here so each quantum is
// one again.
func (w *pacedWriter) ReadFrom(src io.Reader) (int64, error) {
	rf, ok := w.ResponseWriter.(io.ReaderFrom)
	if !ok {
		return io.Copy(writeOnly{w}, src)
	}
	lr, limited := src.(*io.LimitedReader)
	if !limited {
		lr = &io.LimitedReader{R: src, N: math.MaxInt64}
	}
	var total int64
	for lr.N > 0 {
		if w.moved >= w.quantum {
			w.moved = 0
			_ = w.rc.SetWriteDeadline(time.Now().Add(w.window))
		}
		chunk := min(w.quantum-w.moved, lr.N)
		n, err := rf.ReadFrom(&io.LimitedReader{R: lr.R, N: chunk})
		total += n
		w.moved += n
		lr.N -= n
		if err != nil || n < chunk {
			return total, err // n < chunk: src has ended
		}
	}
	return total, nil
}

// writeOnly hides every method of a writer but Write, so that io.Copy
// does not come back to ReadFrom.
type writeOnly struct{ io.Writer }

// allowLonger gives the answer to r up to d, past the server's write
// timeout.
func allowLonger(w http.ResponseWriter, d time.Duration) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
}

// partUploads serves local storage's part uploads: at most partsPerClient
// PUTs under way per client address, a fast 429 with Retry-After beyond,
// and each body held to the transfer floor. Storage bounds the PUTs per
// upload itself, once it has checked their signature.
func (a *api) partUploads(parts http.Handler) http.Handler {
	busy := admit.NewPerKey(partsPerClient)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut {
			parts.ServeHTTP(w, r)
			return
		}
		client := a.proxies.clientIP(r)
		if !busy.Acquire(client) {
			// As storage answers: a browser PUTs from the UI's origin.
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.Header().Set("Retry-After", strconv.Itoa(1))
			http.Error(w, fmt.Sprintf("%d part uploads from this address are under way already", busy.Limit()), http.StatusTooManyRequests)
			return
		}
		defer busy.Release(client)
		a.transfer.paceReads(w, r)
		parts.ServeHTTP(w, r)
	})
}
