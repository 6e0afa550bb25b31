package e2e

import (
	"bufio"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/testenv"
)

// startEmbedded runs every target in one process on the embedded backends,
// with its data in dataDir.
func startEmbedded(t *testing.T, dataDir string, extraEnv ...string) (*platform, *process) {
	t.Helper()
	pf := &platform{admins: map[string]string{}, grpc: map[string]string{}}
	env := []string{"CLOUDFLIX_DATA_DIR=" + dataDir, "CLOUDFLIX_ENCODE_WORKDIR=" + t.TempDir(), "CLOUDFLIX_UPLOAD_PART_SIZE=5242880"}
	for _, svc := range grpcServices {
		addr := freeAddr(t)
		pf.grpc[strings.ToLower(svc)] = addr
		env = append(env, "CLOUDFLIX_"+svc+"_GRPC_ADDR="+addr, "CLOUDFLIX_"+svc+"_TARGET="+addr)
	}
	httpAddr, admin := freeAddr(t), freeAddr(t)
	pf.base = "http://" + httpAddr
	for _, target := range []string{"router", "upload", "host", "search", "encode", "account"} {
		pf.admins[target] = "http://" + admin
	}
	env = append(env, "CLOUDFLIX_HTTP_ADDR="+httpAddr, "CLOUDFLIX_ADMIN_ADDR="+admin)
	p := start(t, "all-in-one", append(env, extraEnv...), "serve")
	waitReady(t, p, pf.base+"/readyz", 60*time.Second)
	pf.connect(t)
	pf.token = pf.newUser(t, "uploader")
	return pf, p
}

// TestPipelineEmbedded runs the whole pipeline in one process with no
// server at all, and proves it: the production backends' settings point at
// proxies in front of the real servers, and no connection reaches them.
func TestPipelineEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	testenv.RequireFFmpeg(t)
	pg, err := url.Parse(testenv.PostgresAdminURL())
	if err != nil {
		t.Fatal(err)
	}
	amqp, err := url.Parse(testenv.AMQPURL())
	if err != nil {
		t.Fatal(err)
	}
	s3 := testenv.S3Server(t)
	proxies := map[string]*testenv.Proxy{
		"PostgreSQL": testenv.NewProxy(t, pg.Host),
		"Redis":      testenv.NewProxy(t, testenv.RedisAddr()),
		"RabbitMQ":   testenv.NewProxy(t, amqp.Host),
		"S3":         testenv.NewProxy(t, s3.Endpoint),
	}
	pgVia, amqpVia := *pg, *amqp
	pgVia.Host, amqpVia.Host = proxies["PostgreSQL"].Addr(), proxies["RabbitMQ"].Addr()
	pf, _ := startEmbedded(t, t.TempDir(),
		"CLOUDFLIX_POSTGRES_URL="+pgVia.String(),
		"CLOUDFLIX_REDIS_ADDR="+proxies["Redis"].Addr(),
		"CLOUDFLIX_AMQP_URL="+amqpVia.String(),
		"CLOUDFLIX_S3_ENDPOINT="+proxies["S3"].Addr(),
	)
	runPipeline(t, pf)
	for name, p := range proxies {
		if n := p.Accepted(); n != 0 {
			t.Errorf("the embedded platform opened %d connections to %s", n, name)
		}
	}
}

// TestEmbeddedRestartMidEncode kills the one process in the middle of an
// encode, with a second upload waiting behind it, and starts it again on the
// same data: both videos end ready, each with exactly one set of renditions.
func TestEmbeddedRestartMidEncode(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	testenv.RequireFFmpeg(t)
	dataDir := t.TempDir()
	clip := filepath.Join(t.TempDir(), "long.mp4")
	testenv.GenerateClip(t, clip, 1280, 720, 20, true)
	short := filepath.Join(t.TempDir(), "short.mp4")
	testenv.GenerateClip(t, short, 320, 240, 2, true)

	pf, first := startEmbedded(t, dataDir)
	id := pf.upload(t, clip, "Interrupted river crossing")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		v := pf.video(t, id)
		if v.State == "processing" && v.Progress > 0.05 {
			break
		}
		if v.State == "ready" || time.Now().After(deadline) {
			t.Fatalf("no encode in progress to interrupt: %s %.2f", v.State, v.Progress)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The only worker is busy: this upload completes and waits in line,
	// its job in the in-process queue that is about to die.
	waiting := pf.upload(t, short, "Waiting in line")
	if v := pf.video(t, waiting); v.State != "uploaded" {
		t.Fatalf("second upload is %s, want uploaded (waiting)", v.State)
	}
	// No graceful shutdown: the process dies as in a crash or power cut.
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.exited
	first.exitErr = nil // killed on purpose

	pf, _ = startEmbedded(t, dataDir)
	v, _ := pf.waitSettled(t, id, 4*time.Minute)
	if v.State != "ready" {
		t.Fatalf("after the restart the video ended %s: %s", v.State, v.FailureReason)
	}
	checkPlayable(t, pf, v, 720)
	if w, _ := pf.waitSettled(t, waiting, 2*time.Minute); w.State != "ready" {
		t.Fatalf("the upload waiting at the crash ended %s: %s", w.State, w.FailureReason)
	}

	// Every stored file of every rendition is one the playlist names.
	for _, r := range v.Renditions {
		dir := filepath.Join(dataDir, "storage", "objects", "videos", id, "hls", r.Name)
		named := playlistFiles(t, filepath.Join(dir, "index.m3u8"))
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != "index.m3u8" && !named[e.Name()] {
				t.Errorf("rendition %s holds %s, which its playlist does not name", r.Name, e.Name())
			}
		}
		if len(entries) != len(named)+1 {
			t.Errorf("rendition %s: %d files stored, playlist names %d", r.Name, len(entries), len(named))
		}
	}
}

// playlistFiles returns the files a media playlist names: its init
// segment and media segments.
func playlistFiles(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if uri, ok := strings.CutPrefix(line, `#EXT-X-MAP:URI="`); ok {
			names[strings.TrimSuffix(uri, `"`)] = true
		} else if line != "" && !strings.HasPrefix(line, "#") {
			names[line] = true
		}
	}
	return names
}

// TestPipelineMixedBackends switches single ports to their production
// adapter, as a single-node install that grows one piece at a time does.
func TestPipelineMixedBackends(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	testenv.RequireFFmpeg(t)
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	testenv.GenerateClip(t, clip, 640, 360, 3, true)
	for _, mix := range []struct{ name, metadata, storage, cache, queue string }{
		{"sqlite+s3+redis", "sqlite", "s3", "redis", "memory"},
		{"postgres+local+rabbitmq", "postgres", "local", "memory", "rabbitmq"},
	} {
		t.Run(mix.name, func(t *testing.T) {
			b := newBackends(t)
			// On any production backend the internal key is required.
			env := append(b.env, "CLOUDFLIX_INTERNAL_KEY="+internalKey,
				"CLOUDFLIX_METADATA="+mix.metadata, "CLOUDFLIX_STORAGE="+mix.storage,
				"CLOUDFLIX_CACHE="+mix.cache, "CLOUDFLIX_QUEUE="+mix.queue)
			if mix.metadata == "postgres" {
				migrate := exec.Command(binary, "migrate")
				migrate.Env = append(os.Environ(), env...)
				if out, err := migrate.CombinedOutput(); err != nil {
					t.Fatalf("cloudflix migrate: %v\n%s", err, out)
				}
			}
			pf, _ := startEmbedded(t, t.TempDir(), env...)
			id := pf.upload(t, clip, "Harbour lights at dusk", "--tag", "night")
			v, _ := pf.waitSettled(t, id, 2*time.Minute)
			if v.State != "ready" {
				t.Fatalf("video ended %s: %s", v.State, v.FailureReason)
			}
			checkPlayable(t, pf, v, 360)
			if ids := pf.search(t, "harbur"); !contains(ids, id) {
				t.Errorf("typo search did not find the video: %v", ids)
			}
		})
	}
}
