package admit

import (
	"fmt"
	"testing"
	"time"
)

func TestRatesBurstThenRate(t *testing.T) {
	r := NewRates(2, 3, 100) // 2 a second, bursts of 3
	now := time.Unix(1000, 0)
	for i := range 3 {
		if ok, _ := r.Allow("a", now); !ok {
			t.Fatalf("request %d of a burst of 3 refused", i+1)
		}
	}
	ok, wait := r.Allow("a", now)
	if ok {
		t.Fatal("a fourth request at once admitted")
	}
	if wait != 500*time.Millisecond {
		t.Fatalf("told to wait %v, want 500ms (one token at 2 a second)", wait)
	}
	if ok, _ := r.Allow("b", now); !ok {
		t.Fatal("one key's requests refused another's")
	}
	// The refused request took no token: half a second later there is one.
	if ok, _ := r.Allow("a", now.Add(500*time.Millisecond)); !ok {
		t.Fatal("refused once the wait it was told had passed")
	}
	if ok, _ := r.Allow("a", now.Add(500*time.Millisecond)); ok {
		t.Fatal("admitted a second request on one token")
	}
}

func TestRatesRememberBoundedKeys(t *testing.T) {
	r := NewRates(1, 1, 3)
	now := time.Unix(1000, 0)
	for i := range 100 {
		r.Allow(fmt.Sprint("client-", i), now)
	}
	if r.Len() != 3 {
		t.Fatalf("%d keys remembered, want at most 3", r.Len())
	}
	// The most recent keys are kept: client-99 has used its token.
	if ok, _ := r.Allow("client-99", now); ok {
		t.Fatal("a recent key was forgotten")
	}
	// client-0 was forgotten and comes back with a full bucket.
	if ok, _ := r.Allow("client-0", now); !ok {
		t.Fatal("a forgotten key came back without its burst")
	}
	if r.Len() != 3 {
		t.Fatalf("%d keys remembered, want 3", r.Len())
	}
}

func TestRatesOff(t *testing.T) {
	r := NewRates(0, 1, 1)
	now := time.Unix(1000, 0)
	for range 1000 {
		if ok, _ := r.Allow("a", now); !ok {
			t.Fatal("a rate of 0 refused a request")
		}
	}
	if r.Len() != 0 {
		t.Fatalf("a rate of 0 remembered %d keys", r.Len())
	}
}
