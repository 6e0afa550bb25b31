package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/video"
)

// fourChunks is a plan of a 30 s source in four chunks.
var fourChunks = []video.Chunk{
	{Index: 0, Start: 0, End: 8}, {Index: 1, Start: 8, End: 16},
	{Index: 2, Start: 16, End: 24}, {Index: 3, Start: 24},
}

// claimedForChunks is a video whose encode w0 holds.
func claimedForChunks(t *testing.T, s Store, title string) video.Video {
	t.Helper()
	v := uploaded(t, s, draft{title: title})
	if _, err := s.ClaimEncode(ctxFor(t), v.ID, "w0", longLease); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	return v
}

// testChunks: the holder of a video's encode plans its chunks; workers
// claim them one each, renew, finish and release them under their own
// leases; a lease that runs out lets another worker redo the chunk and
// the late finisher is refused; a new plan replaces the old one.
func testChunks(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := claimedForChunks(t, s, "Long one")

	wantErr(t, "PlanChunks by another worker", s.PlanChunks(ctx, v.ID, "w9", "p1", fourChunks), video.ErrLeaseLost)
	for name, bad := range map[string][]video.Chunk{
		"no chunks":         nil,
		"a gap":             {{Index: 0, Start: 0, End: 8}, {Index: 1, Start: 10}},
		"an early last one": {{Index: 0, Start: 0}, {Index: 1, Start: 8}},
		"out of order":      {{Index: 1, Start: 0, End: 8}, {Index: 0, Start: 8}},
	} {
		if err := s.PlanChunks(ctx, v.ID, "w0", "p1", bad); !video.IsInvalid(err) {
			t.Errorf("PlanChunks with %s: %v, want invalid", name, err)
		}
	}
	if err := s.PlanChunks(ctx, v.ID, "w0", "p1", fourChunks); err != nil {
		t.Fatalf("PlanChunks: %v", err)
	}
	plan, err := s.ChunkPlan(ctx, v.ID, "p1")
	if err != nil || len(plan) != 4 {
		t.Fatalf("ChunkPlan = %v, %v", plan, err)
	}
	for i, c := range plan {
		if c.Index != i || c.Start != fourChunks[i].Start || c.End != fourChunks[i].End || c.State != video.ChunkPending || c.Attempts != 0 {
			t.Errorf("planned chunk %d = %+v", i, c)
		}
	}
	if !plan[3].Last() {
		t.Errorf("the last chunk %+v does not run to the end", plan[3])
	}

	// Workers asking for any chunk get the first free one each.
	c0, err := s.ClaimChunk(ctx, v.ID, "p1", -1, "w1", longLease)
	if err != nil || c0.Index != 0 || c0.State != video.ChunkEncoding || c0.Worker != "w1" || c0.Attempts != 1 || !c0.LeaseUntil.After(time.Now()) {
		t.Fatalf("first ClaimChunk = %+v, %v", c0, err)
	}
	c1, err := s.ClaimChunk(ctx, v.ID, "p1", -1, "w2", longLease)
	if err != nil || c1.Index != 1 {
		t.Fatalf("second ClaimChunk = %+v, %v", c1, err)
	}
	_, err = s.ClaimChunk(ctx, v.ID, "p1", 0, "w3", longLease)
	wantErr(t, "ClaimChunk of a held chunk", err, video.ErrWrongState)
	_, err = s.ClaimChunk(ctx, v.ID, "p1", 7, "w3", longLease)
	wantErr(t, "ClaimChunk of no such chunk", err, video.ErrNotFound)
	_, err = s.ClaimChunk(ctx, v.ID, "p0", -1, "w3", longLease)
	wantErr(t, "ClaimChunk of another plan", err, video.ErrNotFound)

	wantErr(t, "RenewChunk by another worker", s.RenewChunk(ctx, v.ID, "p1", 0, "w2", longLease), video.ErrLeaseLost)
	if err := s.RenewChunk(ctx, v.ID, "p1", 0, "w1", longLease); err != nil {
		t.Fatalf("RenewChunk: %v", err)
	}
	wantErr(t, "FinishChunk by another worker", s.FinishChunk(ctx, v.ID, "p1", 0, "w2", "x/"), video.ErrLeaseLost)
	if err := s.FinishChunk(ctx, v.ID, "p1", 0, "w1", "videos/x/chunks/p1/0/"); err != nil {
		t.Fatalf("FinishChunk: %v", err)
	}
	wantErr(t, "FinishChunk twice", s.FinishChunk(ctx, v.ID, "p1", 0, "w1", "y/"), video.ErrLeaseLost)
	_, err = s.ClaimChunk(ctx, v.ID, "p1", 0, "w3", longLease)
	wantErr(t, "ClaimChunk of a done chunk", err, video.ErrWrongState)

	// A worker that cannot encode its chunk gives it back; another takes
	// it, and the reason stays until it is done.
	if err := s.ReleaseChunk(ctx, v.ID, "p1", 1, "w2", "ffmpeg was killed", false); err != nil {
		t.Fatalf("ReleaseChunk: %v", err)
	}
	c1, err = s.ClaimChunk(ctx, v.ID, "p1", -1, "w3", longLease)
	if err != nil || c1.Index != 1 || c1.Attempts != 2 || c1.Failure != "ffmpeg was killed" {
		t.Fatalf("ClaimChunk after a release = %+v, %v", c1, err)
	}

	// A lease that runs out: another worker redoes the chunk, and the
	// first one's late finish is refused.
	if _, err := s.ClaimChunk(ctx, v.ID, "p1", 2, "w4", time.Millisecond); err != nil {
		t.Fatalf("ClaimChunk(2): %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c2, err := s.ClaimChunk(ctx, v.ID, "p1", 2, "w5", longLease)
		if err == nil {
			if c2.Worker != "w5" || c2.Attempts != 2 {
				t.Fatalf("takeover = %+v", c2)
			}
			break
		}
		if !errors.Is(err, video.ErrWrongState) || time.Now().After(deadline) {
			t.Fatalf("ClaimChunk after the lease ran out: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	wantErr(t, "FinishChunk by the worker whose lease ran out", s.FinishChunk(ctx, v.ID, "p1", 2, "w4", "late/"), video.ErrLeaseLost)
	wantErr(t, "RenewChunk by the worker whose lease ran out", s.RenewChunk(ctx, v.ID, "p1", 2, "w4", longLease), video.ErrLeaseLost)

	// A chunk the source cannot be encoded in fails for good.
	if _, err := s.ClaimChunk(ctx, v.ID, "p1", 3, "w6", longLease); err != nil {
		t.Fatalf("ClaimChunk(3): %v", err)
	}
	if err := s.ReleaseChunk(ctx, v.ID, "p1", 3, "w6", "damaged at 25 s", true); err != nil {
		t.Fatalf("ReleaseChunk failed: %v", err)
	}
	_, err = s.ClaimChunk(ctx, v.ID, "p1", -1, "w7", longLease)
	wantErr(t, "ClaimChunk with nothing free", err, video.ErrWrongState)

	plan, err = s.ChunkPlan(ctx, v.ID, "p1")
	if err != nil {
		t.Fatal(err)
	}
	want := []video.ChunkState{video.ChunkDone, video.ChunkEncoding, video.ChunkEncoding, video.ChunkFailed}
	for i, c := range plan {
		if c.State != want[i] {
			t.Errorf("chunk %d is %s, want %s", i, c.State, want[i])
		}
	}
	if plan[0].Output != "videos/x/chunks/p1/0/" || plan[2].Worker != "w5" || plan[3].Failure != "damaged at 25 s" {
		t.Errorf("plan = %+v", plan)
	}

	// A new plan (the next claim of the encode) replaces the old one:
	// its chunks' holders can no longer finish them.
	if err := s.PlanChunks(ctx, v.ID, "w0", "p2", fourChunks[:1:1]); err == nil {
		t.Fatal("PlanChunks accepted a plan whose only chunk ends at 8 s")
	}
	if err := s.PlanChunks(ctx, v.ID, "w0", "p2", []video.Chunk{{Index: 0, Start: 0}}); err != nil {
		t.Fatalf("PlanChunks p2: %v", err)
	}
	_, err = s.ChunkPlan(ctx, v.ID, "p1")
	wantErr(t, "ChunkPlan of the replaced plan", err, video.ErrNotFound)
	wantErr(t, "FinishChunk of the replaced plan", s.FinishChunk(ctx, v.ID, "p1", 1, "w3", "z/"), video.ErrLeaseLost)
	if err := s.DropChunks(ctx, v.ID, "p2"); err != nil {
		t.Fatalf("DropChunks: %v", err)
	}
	_, err = s.ChunkPlan(ctx, v.ID, "p2")
	wantErr(t, "ChunkPlan after DropChunks", err, video.ErrNotFound)
}

// testConcurrentClaimChunk: workers asking for any chunk at once each get
// a different one, and as many succeed as there are chunks.
func testConcurrentClaimChunk(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := claimedForChunks(t, s, "Many workers")
	if err := s.PlanChunks(ctx, v.ID, "w0", "p", fourChunks); err != nil {
		t.Fatalf("PlanChunks: %v", err)
	}
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	for w := range 12 {
		wg.Go(func() {
			c, err := s.ClaimChunk(ctx, v.ID, "p", -1, "w"+string(rune('a'+w)), longLease)
			if err != nil {
				if !errors.Is(err, video.ErrWrongState) {
					t.Errorf("ClaimChunk: %v", err)
				}
				return
			}
			mu.Lock()
			got[c.Index]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(got) != len(fourChunks) {
		t.Fatalf("chunks claimed: %v, want each of %d once", got, len(fourChunks))
	}
	for i, n := range got {
		if n != 1 {
			t.Errorf("chunk %d claimed %d times", i, n)
		}
	}
}
