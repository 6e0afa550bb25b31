package testenv

import (
	"bufio"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// echoServer answers every line it reads with the same line, and then
// reports the line on the returned channel.
func echoServer(t *testing.T) (addr string, got <-chan string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	lines := make(chan string, 10)
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := io.WriteString(c, line); err != nil {
						return
					}
					lines <- line
				}
			}()
		}
	}()
	return lis.Addr().String(), lines
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return c
}

// echo sends line through c and fails the test unless it comes back.
func echo(t *testing.T, c net.Conn, line string) {
	t.Helper()
	if _, err := io.WriteString(c, line); err != nil {
		t.Fatal(err)
	}
	if got, err := bufio.NewReader(c).ReadString('\n'); err != nil || got != line {
		t.Fatalf("echo of %q = %q, %v", line, got, err)
	}
}

func TestProxyForwardsAndGoesDown(t *testing.T) {
	t.Parallel()
	target, _ := echoServer(t)
	p := NewProxy(t, target)
	c := dial(t, p.Addr())
	echo(t, c, "one\n")
	p.Down()
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("a connection read after Down, want it cut")
	}
	if c, err := net.DialTimeout("tcp", p.Addr(), 10*time.Second); err == nil {
		c.Close()
		t.Fatal("the proxy took a connection while down")
	}
	p.Up()
	c = dial(t, p.Addr())
	echo(t, c, "two\n")
	if n := p.Accepted(); n != 2 {
		t.Fatalf("Accepted = %d, want 2", n)
	}
}

// A request sent while replies are held reaches the server, and its reply
// never reaches the client: Down cuts the connection with the reply still
// held.
func TestProxyHoldsRepliesUntilDown(t *testing.T) {
	t.Parallel()
	target, served := echoServer(t)
	p := NewProxy(t, target)
	c := dial(t, p.Addr())
	p.HoldReplies()
	if _, err := io.WriteString(c, "request\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case line := <-served:
		if line != "request\n" {
			t.Fatalf("server read %q", line)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the request did not reach the server")
	}
	p.Down()
	// The server had answered before the cut; none of it may arrive.
	b, err := io.ReadAll(c)
	if len(b) != 0 {
		t.Fatalf("the client got %q of a held reply", b)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection was not cut: %v", err)
	}

	// Connections made after Up get their replies again.
	p.Up()
	c = dial(t, p.Addr())
	echo(t, c, "again\n")
}
