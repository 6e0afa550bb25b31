package faulttest

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// echoServer answers each line it reads with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return lis.Addr().String()
}

// echo sends line and reads it back within a deadline.
func echo(c net.Conn, line string) (string, error) {
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return "", err
	}
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSuffix(got, "\n"), err
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestDownRefusesAndHealListensAgain(t *testing.T) {
	t.Parallel()
	p := New(t, echoServer(t))
	open := dial(t, p.Addr())
	if got, err := echo(open, "before"); err != nil || got != "before" {
		t.Fatalf("echo = %q, %v", got, err)
	}
	p.Inject(Down, 0)
	if c, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second); err == nil {
		c.Close()
		t.Fatal("a connection was accepted while down")
	}
	if _, err := echo(open, "during"); err == nil {
		t.Fatal("a connection opened before the fault still carried traffic")
	}
	p.Heal()
	if got, err := echo(dial(t, p.Addr()), "after"); err != nil || got != "after" {
		t.Fatalf("echo after healing = %q, %v", got, err)
	}
}

func TestSlowDelaysEachWay(t *testing.T) {
	t.Parallel()
	p := New(t, echoServer(t))
	c := dial(t, p.Addr())
	const latency = 100 * time.Millisecond
	p.Inject(Slow, latency)
	start := time.Now()
	if got, err := echo(c, "slow"); err != nil || got != "slow" {
		t.Fatalf("echo = %q, %v", got, err)
	}
	// A lower bound: the proxy holds each chunk for its latency each way,
	// however fast the machine.
	if took := time.Since(start); took < 2*latency {
		t.Fatalf("a round trip took %v through a proxy adding %v each way", took, latency)
	}
	p.Heal()
}

func TestCutBreaksConnectionsMidway(t *testing.T) {
	t.Parallel()
	p := New(t, echoServer(t))
	c := dial(t, p.Addr())
	p.Inject(Cut, 0)
	if got, err := echo(c, "short"); err != nil || got != "short" {
		t.Fatalf("a short exchange after the cut = %q, %v; want it through", got, err)
	}
	long := strings.Repeat("x", 4*cutAfter)
	got, err := echo(c, long)
	if err == nil || got == long {
		t.Fatalf("an exchange longer than the cut went through (%d bytes, %v)", len(got), err)
	}
	p.Heal()
	if got, err := echo(dial(t, p.Addr()), long); err != nil || got != long {
		t.Fatalf("after healing: %d bytes, %v", len(got), err)
	}
}
