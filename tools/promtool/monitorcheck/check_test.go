package main

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// writeMonitor lays out a monitor folder from a map of relative paths to
// contents.
func writeMonitor(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const goodDashboard = `{
  "uid": "d1", "title": "One", "schemaVersion": 39,
  "templating": {"list": [
    {"name": "datasource", "type": "datasource", "query": "prometheus"},
    {"name": "route", "type": "query", "datasource": {"type": "prometheus", "uid": "${datasource}"},
     "query": {"query": "label_values(http_requests_total{job=\"x\"}, route)"}}
  ]},
  "panels": [
    {"id": 1, "type": "row", "title": "Row", "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0}, "panels": []},
    {"id": 2, "type": "timeseries", "title": "Rate", "gridPos": {"h": 8, "w": 12, "x": 0, "y": 1},
     "datasource": {"type": "prometheus", "uid": "${datasource}"},
     "targets": [{"refId": "A", "datasource": {"type": "prometheus", "uid": "${datasource}"},
                  "expr": "sum by (route) (rate(http_requests_total{route=~\"$route\"}[$__rate_interval])) / on() group_left job:errors:ratio_rate5m"}]}
  ]
}`

const goodRules = `groups:
  - name: g
    rules:
      - record: job:errors:ratio_rate5m
        expr: sum(rate(errors_total[5m])) / sum(rate(http_requests_total[5m]))
      - alert: Errors
        expr: job:errors:ratio_rate5m > 0.1
        labels:
          severity: page
        annotations:
          summary: Errors.
          description: Too many errors.
          runbook: monitor/README.md#too-many-errors
`

const goodTests = `rule_files: [../rules.yml]
tests:
  - input_series: []
    alert_rule_test:
      - eval_time: 1m
        alertname: Errors
        exp_alerts: []
      - eval_time: 10m
        alertname: Errors
        exp_alerts:
          - exp_labels: {severity: page}
`

const goodReadme = "# Monitor\n\n## Runbook\n\n### Too many errors!\n\nLook.\n"

func good() map[string]string {
	return map[string]string{
		"README.md":                       goodReadme,
		"grafana/one.json":                goodDashboard,
		"prometheus/rules.yml":            goodRules,
		"prometheus/tests/rules_test.yml": goodTests,
	}
}

func TestGoodFolderPasses(t *testing.T) {
	m, err := Load(writeMonitor(t, good()))
	if err != nil {
		t.Fatal(err)
	}
	if p := m.Check(); len(p) > 0 {
		t.Fatalf("problems in a good folder:\n%s", strings.Join(p, "\n"))
	}
	want := []string{"errors_total", "http_requests_total"}
	if got := m.MetricNames(); !slices.Equal(got, want) {
		t.Errorf("metric names = %v, want %v (recording rule outputs left out)", got, want)
	}
}

func TestProblemsAreFound(t *testing.T) {
	cases := []struct {
		name    string
		change  func(files map[string]string)
		problem string
	}{
		{"invalid JSON", func(f map[string]string) { f["grafana/one.json"] = `{"uid": ` }, "not a valid dashboard JSON"},
		{"repeated panel id", func(f map[string]string) {
			f["grafana/one.json"] = strings.Replace(goodDashboard, `"id": 2`, `"id": 1`, 1)
		}, "id also used by"},
		{"repeated uid", func(f map[string]string) {
			f["grafana/two.json"] = strings.Replace(goodDashboard, `"title": "One"`, `"title": "Two"`, 1)
		}, `uid "d1" is also the uid of`},
		{"old schema", func(f map[string]string) {
			f["grafana/one.json"] = strings.Replace(goodDashboard, `"schemaVersion": 39`, `"schemaVersion": 27`, 1)
		}, "schemaVersion 27"},
		{"fixed data source", func(f map[string]string) {
			f["grafana/one.json"] = strings.Replace(goodDashboard, `"timeseries", "title": "Rate", "gridPos": {"h": 8, "w": 12, "x": 0, "y": 1},
     "datasource": {"type": "prometheus", "uid": "${datasource}"}`, `"timeseries", "title": "Rate", "gridPos": {"h": 8, "w": 12, "x": 0, "y": 1},
     "datasource": {"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}`, 1)
		}, "panel 2 \"Rate\": data source"},
		{"bad PromQL", func(f map[string]string) {
			f["grafana/one.json"] = strings.Replace(goodDashboard, `sum by (route)`, `sum by route`, 1)
		}, "PromQL"},
		{"undefined variable", func(f map[string]string) {
			f["grafana/one.json"] = strings.Replace(goodDashboard, `$route`, `$path`, 1)
		}, "undefined variables [path]"},
		{"panel off the grid", func(f map[string]string) {
			f["grafana/one.json"] = strings.Replace(goodDashboard, `"w": 12, "x": 0`, `"w": 12, "x": 16`, 1)
		}, "does not fit"},
		{"no severity", func(f map[string]string) {
			f["prometheus/rules.yml"] = strings.Replace(goodRules, "severity: page", "team: video", 1)
		}, `severity ""`},
		{"runbook section missing", func(f map[string]string) { f["README.md"] = "# Monitor\n" }, "is not a section of README.md"},
		{"never shown firing", func(f map[string]string) {
			f["prometheus/tests/rules_test.yml"] = goodTests[:strings.Index(goodTests, "      - eval_time: 10m")]
		}, "no unit test shows it firing"},
		{"never shown quiet", func(f map[string]string) {
			f["prometheus/tests/rules_test.yml"] = strings.Replace(goodTests, "exp_alerts: []", "exp_alerts: [{exp_labels: {severity: page}}]", 1)
		}, "no unit test shows it quiet"},
		{"test of an unknown alert", func(f map[string]string) {
			f["prometheus/tests/rules_test.yml"] = goodTests + "      - eval_time: 1m\n        alertname: Typo\n        exp_alerts: []\n"
		}, `tests alert "Typo"`},
		{"rule file no test loads", func(f map[string]string) {
			f["prometheus/tests/rules_test.yml"] = strings.Replace(goodTests, "../rules.yml", "../other.yml", 1)
		}, "no file in prometheus/tests/*.yml loads it"},
		{"invalid rule", func(f map[string]string) {
			f["prometheus/rules.yml"] = strings.Replace(goodRules, "> 0.1", "> > 0.1", 1)
		}, "prometheus/rules.yml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := good()
			c.change(files)
			m, err := Load(writeMonitor(t, files))
			if err != nil {
				t.Fatal(err)
			}
			problems := m.Check()
			for _, p := range problems {
				if strings.Contains(p, c.problem) {
					return
				}
			}
			t.Errorf("no problem mentions %q; got:\n%s", c.problem, strings.Join(problems, "\n"))
		})
	}
}

// TestProjectMonitor checks the project's own monitor folder, so that
// `go test` in this module is a check of the real dashboards and rules too.
func TestProjectMonitor(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "monitor")
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p := m.Check(); len(p) > 0 {
		t.Fatalf("monitor/ has problems:\n%s", strings.Join(p, "\n"))
	}
	if len(m.Dashboards) == 0 || len(m.Alerts()) == 0 {
		t.Fatalf("monitor/ has %d dashboards and %d alerts", len(m.Dashboards), len(m.Alerts()))
	}
}
