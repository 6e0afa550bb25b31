package rpc

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"google.golang.org/grpc"
)

// Memory is a network inside one process: services listen on it by name,
// and a connection is a pair of buffered in-memory pipes. gRPC runs over it
// as over TCP (HTTP/2 framing, interceptors, deadlines, metadata, stats
// handlers), without the kernel's loopback in between. The zero value is
// not usable; call NewMemory.
type Memory struct {
	mu        sync.Mutex
	listeners map[string]*memoryListener
	added     chan struct{} // closed, and replaced, whenever a listener is added
}

// NewMemory returns an empty in-memory network.
func NewMemory() *Memory {
	return &Memory{listeners: map[string]*memoryListener{}, added: make(chan struct{})}
}

// Listen returns the listener of name; one at a time per name.
func (m *Memory) Listen(name string) (net.Listener, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.listeners[name]; ok {
		return nil, fmt.Errorf("in-memory listen %s: the name is taken", name)
	}
	l := &memoryListener{net: m, addr: memoryAddr(name), conns: make(chan net.Conn), done: make(chan struct{})}
	m.listeners[name] = l
	close(m.added)
	m.added = make(chan struct{})
	return l, nil
}

// Dial connects to the listener of name, waiting for it to be opened (the
// services of a process start together) until ctx ends.
func (m *Memory) Dial(ctx context.Context, name string) (net.Conn, error) {
	for {
		m.mu.Lock()
		l, added := m.listeners[name], m.added
		m.mu.Unlock()
		if l != nil {
			client, server := memoryPipe(memoryAddr(name+"-client"), l.addr)
			select {
			case l.conns <- server:
				return client, nil
			case <-l.done:
				// Closed under us: wait for the next listener of name.
			case <-ctx.Done():
				return nil, fmt.Errorf("in-memory dial %s: %w", name, ctx.Err())
			}
		}
		select {
		case <-added:
		case <-ctx.Done():
			return nil, fmt.Errorf("in-memory dial %s: nothing listens: %w", name, ctx.Err())
		}
	}
}

// DialMemory returns a client connection to the service listening as name
// on m, with the same stats handler and principal signing as Dial.
func DialMemory(m *Memory, name string, key Key) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient("passthrough:///"+name, append(clientOptions(key),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) { return m.Dial(ctx, addr) }))...)
	if err != nil {
		return nil, fmt.Errorf("gRPC dial %s in memory: %w", name, err)
	}
	return conn, nil
}

type memoryAddr string

func (a memoryAddr) Network() string { return "memory" }
func (a memoryAddr) String() string  { return string(a) }

type memoryListener struct {
	net   *Memory
	addr  memoryAddr
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func (l *memoryListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting and frees the name for another listener.
func (l *memoryListener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.net.mu.Lock()
		if l.net.listeners[string(l.addr)] == l {
			delete(l.net.listeners, string(l.addr))
		}
		l.net.mu.Unlock()
	})
	return nil
}

func (l *memoryListener) Addr() net.Addr { return l.addr }

// pipeBytes is how much one direction of a connection holds before a
// writer waits for its reader: more than gRPC's 32 KiB write buffer, so a
// flush rarely waits.
const pipeBytes = 256 << 10

// memoryPipe returns the two ends of a connection.
func memoryPipe(a, b memoryAddr) (net.Conn, net.Conn) {
	ab, ba := newPipe(), newPipe()
	return &memoryConn{r: ba, w: ab, local: a, remote: b}, &memoryConn{r: ab, w: ba, local: b, remote: a}
}

// memoryConn is one end of an in-memory connection: it reads one pipe and
// writes the other.
type memoryConn struct {
	r, w          *pipe
	local, remote memoryAddr
}

func (c *memoryConn) Read(b []byte) (int, error)  { return c.r.read(b) }
func (c *memoryConn) Write(b []byte) (int, error) { return c.w.write(b) }

// Close ends both directions: the peer reads what was written, then EOF,
// and its writes fail.
func (c *memoryConn) Close() error {
	c.r.close(true)
	c.w.close(false)
	return nil
}

func (c *memoryConn) LocalAddr() net.Addr  { return c.local }
func (c *memoryConn) RemoteAddr() net.Addr { return c.remote }

func (c *memoryConn) SetDeadline(t time.Time) error {
	c.r.setDeadline(&c.r.readBy, t)
	c.w.setDeadline(&c.w.writeBy, t)
	return nil
}

func (c *memoryConn) SetReadDeadline(t time.Time) error {
	c.r.setDeadline(&c.r.readBy, t)
	return nil
}

func (c *memoryConn) SetWriteDeadline(t time.Time) error {
	c.w.setDeadline(&c.w.writeBy, t)
	return nil
}

// pipe is one direction of a connection: a ring buffer between one
// writer end and one reader end.
type pipe struct {
	mu      sync.Mutex
	changed sync.Cond // data or room arrived, an end closed, or a deadline passed
	ring    []byte    // pipeBytes long once written to
	start   int       // where the unread bytes begin
	unread  int
	// readerClosed: the reading end closed (its reads and the writes
	// into it fail); writerClosed: the writing end closed (reads see EOF
	// once the buffer is drained).
	readerClosed, writerClosed bool
	readBy, writeBy            deadline
}

type deadline struct {
	at    time.Time
	timer *time.Timer
}

func (d *deadline) passed() bool { return !d.at.IsZero() && !time.Now().Before(d.at) }

func newPipe() *pipe {
	p := &pipe{}
	p.changed.L = &p.mu
	return p
}

func (p *pipe) read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		switch {
		case p.readerClosed:
			return 0, net.ErrClosed
		case p.readBy.passed():
			return 0, os.ErrDeadlineExceeded
		case p.unread > 0:
			n := min(len(b), p.unread)
			first := copy(b[:n], p.ring[p.start:])
			copy(b[first:n], p.ring)
			p.start = (p.start + n) % len(p.ring)
			p.unread -= n
			p.changed.Broadcast()
			return n, nil
		case len(b) == 0:
			return 0, nil
		case p.writerClosed:
			return 0, io.EOF
		}
		p.changed.Wait()
	}
}

func (p *pipe) write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for {
		switch {
		case p.writerClosed:
			return n, net.ErrClosed
		case p.readerClosed:
			return n, io.ErrClosedPipe
		case p.writeBy.passed():
			return n, os.ErrDeadlineExceeded
		case n == len(b):
			return n, nil
		}
		if p.ring == nil {
			p.ring = make([]byte, pipeBytes)
		}
		if room := len(p.ring) - p.unread; room > 0 {
			m := min(room, len(b)-n)
			end := (p.start + p.unread) % len(p.ring)
			first := copy(p.ring[end:], b[n:n+m])
			copy(p.ring, b[n+first:n+m])
			p.unread += m
			n += m
			p.changed.Broadcast()
			continue
		}
		p.changed.Wait()
	}
}

// close closes the reading end (reader) or the writing end of the pipe.
func (p *pipe) close(reader bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if reader {
		p.readerClosed = true
		p.ring, p.start, p.unread = nil, 0, 0
	} else {
		p.writerClosed = true
	}
	p.changed.Broadcast()
}

// setDeadline sets d, one of p's deadlines, and wakes the waiters when it
// passes.
func (p *pipe) setDeadline(d *deadline, t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	d.at = t
	if wait := time.Until(t); !t.IsZero() && wait > 0 {
		d.timer = time.AfterFunc(wait, func() {
			p.mu.Lock()
			p.changed.Broadcast()
			p.mu.Unlock()
		})
	}
	p.changed.Broadcast()
}
