package encodesvc

import (
	"os"
	"testing"
)

// A single process's workers are named after its data folder, so that its
// next run recognises the leases it held; elsewhere after the host.
func TestWorkerPrefix(t *testing.T) {
	if got := workerPrefix(true, "/srv/cloudflix"); got != "embedded:/srv/cloudflix:" {
		t.Errorf("in-process queue: prefix %q", got)
	}
	host, _ := os.Hostname()
	if got := workerPrefix(false, "/srv/cloudflix"); got != host+":" {
		t.Errorf("shared queue: prefix %q, want %q", got, host+":")
	}
}
