package testenv

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections to a real server and can cut them off, so
// a test can take a dependency "down" (a network partition) and bring it
// back without touching the shared server. It can also hold back what the
// server answers while still forwarding what clients send, so a test can
// make a request reach the server and its answer never arrive.
type Proxy struct {
	t      testing.TB
	addr   string
	target string

	mu       sync.Mutex
	lis      net.Listener
	conns    map[net.Conn]bool
	accepted int
	// held is non-nil while the server's bytes are held back; Down closes
	// it once the connections are closed, so what was held is dropped.
	held chan struct{}
}

// NewProxy starts a proxy on a free loopback port in front of target; it is
// closed when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	p := &Proxy{t: t, target: target, conns: map[net.Conn]bool{}}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: proxy: %v", err)
	}
	p.addr = lis.Addr().String()
	p.serve(lis)
	t.Cleanup(p.Down)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

// Accepted counts the connections the proxy has taken.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// HoldReplies stops forwarding what the server sends, on the connections
// open now and on new ones, while what clients send still goes through:
// the server acts on a request but its reply does not arrive, as when a
// link fails between the two. Nothing held is ever delivered: Down drops
// it with the connections, and forwarding resumes on the connections made
// after Up.
func (p *Proxy) HoldReplies() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held == nil {
		p.held = make(chan struct{})
	}
}

// Down closes every forwarded connection and refuses new ones.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lis != nil {
		p.lis.Close()
		p.lis = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
	// Released only now, with their clients closed, held replies cannot
	// be written.
	if p.held != nil {
		close(p.held)
		p.held = nil
	}
}

// Up accepts connections again on the same address.
func (p *Proxy) Up() {
	p.t.Helper()
	lis, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("testenv: proxy up: %v", err)
	}
	p.serve(lis)
}

func (p *Proxy) serve(lis net.Listener) {
	p.mu.Lock()
	p.lis = lis
	p.mu.Unlock()
	go func() {
		for {
			in, err := lis.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.accepted++
			p.mu.Unlock()
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				in.Close()
				continue
			}
			if !p.track(lis, in, out) {
				continue
			}
			go p.pipe(out, in)
			go p.reply(in, out)
		}
	}()
}

// track records a forwarded pair, unless the proxy went down meanwhile.
func (p *Proxy) track(lis net.Listener, in, out net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lis != lis {
		in.Close()
		out.Close()
		return false
	}
	p.conns[in], p.conns[out] = true, true
	return true
}

// pipe forwards what a client sends to the server.
func (p *Proxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// reply forwards what the server sends to the client, waiting while
// replies are held.
func (p *Proxy) reply(client, server net.Conn) {
	defer client.Close()
	defer server.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			p.mu.Lock()
			held := p.held
			p.mu.Unlock()
			if held != nil {
				<-held
			}
			if _, err := client.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
