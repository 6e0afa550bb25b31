package accountsvc

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

func TestDelayDoublesAfterTheFreeFailuresUpToTheCap(t *testing.T) {
	cases := []struct {
		failures, free int
		want           time.Duration
	}{
		{0, 5, 0}, {4, 5, 0}, {5, 5, time.Second}, {6, 5, 2 * time.Second}, {9, 5, 16 * time.Second},
		{14, 5, 512 * time.Second}, {15, 5, maxDelay}, {500, 5, maxDelay}, {20, 20, time.Second},
	}
	for _, c := range cases {
		if got := delay(c.failures, c.free); got != c.want {
			t.Errorf("delay(%d, %d) = %v, want %v", c.failures, c.free, got, c.want)
		}
	}
}

func TestSignInKeys(t *testing.T) {
	cases := map[string]string{
		"192.0.2.7":              "login:alice ip:192.0.2.7",
		"::ffff:192.0.2.7":       "login:alice ip:192.0.2.7",
		"2001:db8:1:2:3:4:5:6":   "login:alice ip:2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::":    "login:alice ip:2001:db8:1:2::/64",
		"":                       "login:alice",
		"not an address":         "login:alice",
		"2001:db8:1:3::1%eth0":   "login:alice ip:2001:db8:1:3::/64",
		"198.51.100.1, 10.0.0.1": "login:alice",
	}
	for ip, want := range cases {
		var got []string
		for _, k := range signInKeys(ip, "alice") {
			got = append(got, k.key)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("signInKeys(%q) = %v, want %s", ip, got, want)
		}
	}
}

// retryAfter is the wait a throttled answer gives, or fails t when err is
// not one.
func retryAfter(t *testing.T, err error) time.Duration {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), "try again in") {
		t.Fatalf("%v, want ResourceExhausted saying when to try again", err)
	}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration()
		}
	}
	t.Fatalf("%v has no RetryInfo", err)
	return 0
}

func TestSignInThrottle(t *testing.T) {
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		e := newEnv(t, p, testConfig())
		alice := e.signUp("alice")
		ctx := context.Background()
		signIn := func(login, pw, ip string) error {
			_, err := e.svc.SignIn(ctx, &pb.SignInRequest{Login: login, Password: pw, Client: &pb.Client{Ip: ip}})
			return err
		}

		// The login key: an existing account and a login that names
		// nobody are throttled alike.
		for _, login := range []string{"alice", "nobody"} {
			for i := range freeLoginFailures {
				wantCode(t, "free failure", signIn(login, "wrong password", "192.0.2.1"), codes.Unauthenticated, "")
				if t.Failed() {
					t.Fatalf("%s: failure %d throttled", login, i+1)
				}
			}
			// The next attempt waits a second after the last failure,
			// the right password too.
			if got := retryAfter(t, signIn(login, alice.password, "192.0.2.2")); got != time.Second {
				t.Errorf("%s: wait %v after the free failures, want 1s", login, got)
			}
			e.clock.Advance(time.Second)
			wantCode(t, "after the wait", signIn(login, "wrong password", "192.0.2.3"), codes.Unauthenticated, "")
			// The wait doubles, counted from the last failure; an
			// attempt refused for coming early is not counted.
			e.clock.Advance(500 * time.Millisecond)
			if got := retryAfter(t, signIn(login, "wrong password", "192.0.2.4")); got != 2*time.Second {
				t.Errorf("%s: wait %v with 1.5s of 2s left, want 2s (rounded up)", login, got)
			}
			e.clock.Advance(1500 * time.Millisecond)
			wantCode(t, "after the second wait", signIn(login, "wrong password", "192.0.2.5"), codes.Unauthenticated, "")
			if got := retryAfter(t, signIn(login, "wrong password", "192.0.2.6")); got != 4*time.Second {
				t.Errorf("%s: third wait %v, want 4s", login, got)
			}
		}

		// Another login from the same addresses is not slowed.
		bob := e.signUp("bob")
		if err := signIn("bob", bob.password, "192.0.2.1"); err != nil {
			t.Errorf("bob: %v", err)
		}

		// Success clears the key: alice waits her 4s and signs in, then
		// has her free failures again.
		e.clock.Advance(4 * time.Second)
		if err := signIn("ALICE", alice.password, "192.0.2.1"); err != nil {
			t.Fatalf("alice after the wait: %v", err)
		}
		for range freeLoginFailures {
			wantCode(t, "free failure after a success", signIn("alice", "wrong password", "192.0.2.1"), codes.Unauthenticated, "")
		}
		retryAfter(t, signIn("alice", alice.password, "192.0.2.1"))

		// Failures a day old are forgotten.
		e.clock.Advance(forgetAfter + time.Second)
		if err := signIn("alice", alice.password, "192.0.2.1"); err != nil {
			t.Errorf("a day later: %v", err)
		}
		if err := signIn("nobody", "wrong password", "192.0.2.1"); status.Code(err) != codes.Unauthenticated {
			t.Errorf("nobody a day later: %v", err)
		}

		// The address key: an address with its free failures spent is
		// slowed for every login, and an IPv6 address by its /64; other
		// addresses are not.
		now := e.clock.Now()
		for _, key := range []string{"ip:198.51.100.7", "ip:2001:db8:7::/64"} {
			for range freeAddressFailures + 3 {
				if err := e.db.RecordSignInFailure(ctx, key, now); err != nil {
					t.Fatal(err)
				}
			}
		}
		if got := retryAfter(t, signIn("bob", bob.password, "198.51.100.7")); got != 8*time.Second {
			t.Errorf("address wait %v, want 8s", got)
		}
		retryAfter(t, signIn("bob", bob.password, "2001:db8:7::abcd"))
		if err := signIn("bob", bob.password, "198.51.100.8"); err != nil {
			t.Errorf("bob from another address: %v", err)
		}
		e.clock.Advance(8 * time.Second)
		if err := signIn("bob", bob.password, "2001:db8:7:0:1::2"); err != nil {
			t.Errorf("bob after the address's wait: %v", err)
		}
		// That success cleared the /64's key.
		if err := signIn("bob", bob.password, "2001:db8:7::abcd"); err != nil {
			t.Errorf("the /64 after a success: %v", err)
		}
	})
}

// A stolen session cannot guess the password through ChangePassword
// faster than through the sign-in page.
func TestChangePasswordIsThrottledWithTheUsername(t *testing.T) {
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		e := newEnv(t, p, testConfig())
		alice := e.signUp("alice")
		for range freeLoginFailures {
			_, err := e.svc.ChangePassword(alice.ctx(), &pb.ChangePasswordRequest{CurrentPassword: "guess", NewPassword: "a new password"})
			wantCode(t, "wrong guess", err, codes.InvalidArgument, "wrong")
		}
		_, err := e.svc.ChangePassword(alice.ctx(), &pb.ChangePasswordRequest{CurrentPassword: alice.password, NewPassword: "a new password"})
		retryAfter(t, err)
		_, err = e.svc.SignIn(context.Background(), &pb.SignInRequest{Login: "alice", Password: alice.password})
		retryAfter(t, err)
	})
}
