package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// stage is one FROM section of the Dockerfile.
type stage struct {
	name, base string
	nodes      []*parser.Node
}

// instructions returns the stage's instructions of one kind ("run", "user").
func (s stage) instructions(kind string) []*parser.Node {
	var out []*parser.Node
	for _, n := range s.nodes {
		if strings.EqualFold(n.Value, kind) {
			out = append(out, n)
		}
	}
	return out
}

// args are the words after the instruction keyword.
func args(n *parser.Node) []string {
	var out []string
	for a := n.Next; a != nil; a = a.Next {
		out = append(out, a.Value)
	}
	return out
}

func parseDockerfile(t *testing.T) []stage {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("parse deploy/Dockerfile: %v", err)
	}
	for _, w := range res.Warnings {
		t.Errorf("deploy/Dockerfile: %s", w.Short)
	}
	var stages []stage
	for _, n := range res.AST.Children {
		if strings.EqualFold(n.Value, "from") {
			a := args(n)
			s := stage{base: a[0]}
			if len(a) == 3 && strings.EqualFold(a[1], "as") {
				s.name = a[2]
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) == 0 {
			if !strings.EqualFold(n.Value, "arg") {
				t.Fatalf("deploy/Dockerfile: %s before the first FROM", n.Original)
			}
			continue
		}
		stages[len(stages)-1].nodes = append(stages[len(stages)-1].nodes, n)
	}
	return stages
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	stages := parseDockerfile(t)
	if len(stages) < 2 {
		t.Fatalf("%d stages: want a multi-stage build", len(stages))
	}
	byName := map[string]stage{}
	var names []string
	for _, s := range stages {
		if s.name == "" {
			t.Errorf("stage FROM %s has no name: --target and COPY --from need one", s.base)
		}
		byName[s.name] = s
		names = append(names, s.name)
		if _, earlier := byName[s.base]; !earlier && !imagePinned(s.base) {
			t.Errorf("FROM %s: base image is not pinned to a tag or digest", s.base)
		}
	}

	// The build stage: a static, reproducible binary that knows its version.
	build, ok := byName["build"]
	if !ok {
		t.Fatalf("no stage named build among %v", names)
	}
	var goBuild string
	for _, r := range build.instructions("run") {
		if cmd := strings.Join(args(r), " "); strings.Contains(cmd, "go build") {
			goBuild = cmd
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X github.com/cloudflix/cloudflix.Version=${VERSION}", "./cmd/cloudflix"} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("the go build step lacks %q: %s", want, goBuild)
		}
	}
	if !slices.ContainsFunc(build.instructions("arg"), func(n *parser.Node) bool { return strings.HasPrefix(args(n)[0], "VERSION") }) {
		t.Errorf("the build stage has no ARG VERSION")
	}

	// The runtime stages the chart runs: `service` for everything but
	// encode, `encode` with ffmpeg.
	for _, name := range []string{"service", "encode"} {
		s, ok := byName[name]
		if !ok {
			t.Errorf("no stage named %s among %v", name, names)
			continue
		}
		users := s.instructions("user")
		if len(users) == 0 {
			t.Errorf("stage %s: no USER; it would run as root", name)
		} else {
			uid, _, _ := strings.Cut(args(users[len(users)-1])[0], ":")
			if n, err := strconv.Atoi(uid); err != nil || n == 0 {
				t.Errorf("stage %s: USER %s is not a numeric non-root user (Kubernetes' runAsNonRoot needs a number)", name, uid)
			}
		}
		eps := s.instructions("entrypoint")
		if len(eps) != 1 || !eps[0].Attributes["json"] || args(eps[0])[0] != "/usr/local/bin/cloudflix" {
			t.Errorf("stage %s: want one exec-form ENTRYPOINT [\"/usr/local/bin/cloudflix\"], have %v", name, eps)
		}
		copied := slices.ContainsFunc(s.instructions("copy"), func(n *parser.Node) bool {
			return slices.Contains(n.Flags, "--from=build") && slices.Contains(args(n), "/usr/local/bin/cloudflix")
		})
		if !copied {
			t.Errorf("stage %s does not copy the binary from the build stage", name)
		}
	}
	if s, ok := byName["service"]; ok && len(s.instructions("run")) > 0 {
		t.Errorf("stage service runs commands; its base has no shell to run them")
	}
	ffmpeg := slices.ContainsFunc(byName["encode"].instructions("run"), func(n *parser.Node) bool {
		cmd := strings.Join(args(n), " ")
		return strings.Contains(cmd, "apt-get install") && strings.Contains(cmd, "ffmpeg")
	})
	if !ffmpeg {
		t.Errorf("stage encode does not install ffmpeg")
	}
}
