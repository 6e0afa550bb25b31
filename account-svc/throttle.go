package accountsvc

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Failed sign-ins are slowed down with growing delays, counted in the
// store under two keys: the client's address and the login as typed.
//
//   - The address key is the IP the edge saw; an IPv6 address counts by
//     its /64, which one client usually holds whole. Several people may
//     share an address behind NAT, so it has more free failures.
//   - The login key is the login normalized (trimmed, lower case), never
//     the account it names: failures for a login that names nobody count
//     the same, so the throttle never tells whether an account exists. A
//     username and an e-mail address of one account are two keys, so that
//     throttling one does not tell that they belong together.
//
// The first free failures under a key cost nothing. After them, each
// attempt under the key must come at least baseDelay after the key's last
// failure, a delay that doubles with every further failure up to maxDelay.
// An attempt that comes sooner is refused before any password is checked
// (the right one too, or the throttle would answer guesses) with
// ResourceExhausted: its message says when to try again and an
// errdetails.RetryInfo status detail carries the wait, which the edge
// turns into Retry-After. A refused attempt is not counted, so a person
// who tries too early waits no longer for it. A success clears both keys;
// failures older than forgetAfter are forgotten.
//
// Concurrent attempts may all pass the check before any of them records
// its failure; each failure still counts, so a burst of n guesses doubles
// the next wait n times.
const (
	freeLoginFailures   = 5
	freeAddressFailures = 20
	baseDelay           = time.Second
	maxDelay            = 15 * time.Minute
	forgetAfter         = 24 * time.Hour
)

// throttleKey is one key failures count under.
type throttleKey struct {
	key  string
	free int
}

// signInKeys are the keys of a sign-in with login (normalized) from ip;
// without an address (a caller that is not the edge) only the login
// counts.
func signInKeys(ip, login string) []throttleKey {
	keys := []throttleKey{{key: "login:" + login, free: freeLoginFailures}}
	if a, err := netip.ParseAddr(ip); err == nil {
		a = a.Unmap().WithZone("")
		if a.Is6() {
			p, _ := a.Prefix(64)
			keys = append(keys, throttleKey{key: "ip:" + p.String(), free: freeAddressFailures})
		} else {
			keys = append(keys, throttleKey{key: "ip:" + a.String(), free: freeAddressFailures})
		}
	}
	return keys
}

// delay is the wait after the last of failures under a key with free
// failures.
func delay(failures, free int) time.Duration {
	if failures < free {
		return 0
	}
	n := failures - free
	if n >= 30 || baseDelay<<n > maxDelay {
		return maxDelay
	}
	return baseDelay << n
}

// wait is how long an attempt under keys at now must still wait: the
// longest of the keys' waits, 0 when it may go ahead.
func (s *Service) wait(ctx context.Context, keys []throttleKey, now time.Time) (time.Duration, error) {
	var longest time.Duration
	for _, k := range keys {
		n, last, err := s.store.SignInFailures(ctx, k.key)
		if err != nil {
			return 0, fmt.Errorf("sign-in failures: %w", err)
		}
		if n > 0 && now.Sub(last) > forgetAfter {
			if err := s.store.ClearSignInFailures(ctx, k.key); err != nil {
				return 0, fmt.Errorf("forget sign-in failures: %w", err)
			}
			continue
		}
		longest = max(longest, last.Add(delay(n, k.free)).Sub(now))
	}
	return longest, nil
}

func (s *Service) recordFailure(ctx context.Context, keys []throttleKey, now time.Time) error {
	for _, k := range keys {
		if err := s.store.RecordSignInFailure(ctx, k.key, now); err != nil {
			return fmt.Errorf("record sign-in failure: %w", err)
		}
	}
	return nil
}

func (s *Service) clearFailures(ctx context.Context, keys []throttleKey) error {
	for _, k := range keys {
		if err := s.store.ClearSignInFailures(ctx, k.key); err != nil {
			return fmt.Errorf("clear sign-in failures: %w", err)
		}
	}
	return nil
}

// throttled is the refusal of an attempt that must wait: whole seconds, so
// that Retry-After says the same as the message.
func throttled(wait time.Duration, now time.Time) error {
	wait = time.Duration(math.Ceil(wait.Seconds())) * time.Second
	st := status.New(codes.ResourceExhausted, fmt.Sprintf("too many failed sign-ins: try again in %s, at %s",
		wait, now.Add(wait).UTC().Format(time.RFC3339)))
	if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(wait)}); err == nil {
		st = d
	}
	return st.Err()
}
