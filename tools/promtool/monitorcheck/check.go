package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// The layout of a monitor folder.
const (
	dashboardGlob = "grafana/*.json"
	ruleGlob      = "prometheus/*.yml"
	testGlob      = "prometheus/tests/*.yml"
	runbookFile   = "README.md"
	// runbookPrefix is how an alert's runbook annotation names its section.
	runbookPrefix = "monitor/README.md#"
	// minSchemaVersion is the oldest dashboard schema provisioned as is by
	// Grafana 10.4 and later, without a migration on load.
	minSchemaVersion = 39
)

// severities an alert may carry: page wakes someone, ticket waits for the
// working day.
var severities = []string{"page", "ticket"}

// Monitor is a loaded monitor folder.
type Monitor struct {
	Dir        string
	Dashboards []*Dashboard
	RuleFiles  []*RuleFile
	TestFiles  []*TestFile
	Runbook    string // the README that holds the runbook sections

	problems []string // what could not even be loaded
}

// Dashboard is the part of a Grafana dashboard model that is checked.
type Dashboard struct {
	File          string
	UID           string     `json:"uid"`
	Title         string     `json:"title"`
	SchemaVersion int        `json:"schemaVersion"`
	Templating    Templating `json:"templating"`
	Panels        []*Panel   `json:"panels"`
}

// Templating holds a dashboard's variables.
type Templating struct {
	List []*Variable `json:"list"`
}

// Variable is a dashboard template variable.
type Variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource *Datasource     `json:"datasource"`
}

// Panel is a dashboard panel; a row holds panels of its own when collapsed.
type Panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *Datasource `json:"datasource"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []*Target `json:"targets"`
	Panels  []*Panel  `json:"panels"`
}

// Target is one query of a panel.
type Target struct {
	RefID      string      `json:"refId"`
	Expr       string      `json:"expr"`
	Datasource *Datasource `json:"datasource"`
}

// Datasource names a data source by type and uid.
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// wantDatasource is the data source of every panel and query: the
// dashboard's own variable, so one file serves every Grafana.
var wantDatasource = Datasource{Type: "prometheus", UID: "${datasource}"}

func (d *Datasource) String() string {
	if d == nil {
		return "none"
	}
	return fmt.Sprintf("{type %q, uid %q}", d.Type, d.UID)
}

// RuleFile is a Prometheus rule file.
type RuleFile struct {
	File   string
	Groups []rulefmt.RuleGroup
}

// TestFile is the part of a promtool unit test file that is checked.
type TestFile struct {
	File      string
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		AlertRuleTest []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// Expr is one PromQL expression found in the folder, with where it is.
type Expr struct {
	Where string
	Text  string
	// Dashboard is the dashboard the expression is in; nil in a rule.
	Dashboard *Dashboard
}

var promql = parser.NewParser(parser.Options{})

// Load reads the dashboards, rules, rule tests and runbook of dir. Files
// that do not parse are reported by Check, not returned as an error; the
// error is for a folder that cannot be read at all.
func Load(dir string) (*Monitor, error) {
	m := &Monitor{Dir: dir}
	readme, err := os.ReadFile(filepath.Join(dir, runbookFile))
	if err != nil {
		return nil, fmt.Errorf("runbook: %w", err)
	}
	m.Runbook = string(readme)

	dashboards, _ := filepath.Glob(filepath.Join(dir, dashboardGlob))
	for _, f := range dashboards {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("dashboard: %w", err)
		}
		d := &Dashboard{File: rel(dir, f)}
		if err := json.Unmarshal(b, d); err != nil {
			m.problems = append(m.problems, fmt.Sprintf("%s: not a valid dashboard JSON: %v", d.File, err))
			continue
		}
		m.Dashboards = append(m.Dashboards, d)
	}

	rules, _ := filepath.Glob(filepath.Join(dir, ruleGlob))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, f := range rules {
		groups, errs := rulefmt.ParseFile(f, false, model.UTF8Validation, promql, quiet)
		for _, err := range errs {
			m.problems = append(m.problems, fmt.Sprintf("%s: %v", rel(dir, f), err))
		}
		if groups != nil && len(errs) == 0 {
			m.RuleFiles = append(m.RuleFiles, &RuleFile{File: rel(dir, f), Groups: groups.Groups})
		}
	}

	tests, _ := filepath.Glob(filepath.Join(dir, testGlob))
	for _, f := range tests {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("rule tests: %w", err)
		}
		t := &TestFile{File: rel(dir, f)}
		if err := yaml.Unmarshal(b, t); err != nil {
			m.problems = append(m.problems, fmt.Sprintf("%s: not a valid rule test file: %v", t.File, err))
			continue
		}
		m.TestFiles = append(m.TestFiles, t)
	}
	if len(m.Dashboards)+len(m.RuleFiles)+len(m.problems) == 0 {
		return nil, fmt.Errorf("%s holds no %s and no %s", dir, dashboardGlob, ruleGlob)
	}
	return m, nil
}

func rel(dir, f string) string {
	if r, err := filepath.Rel(dir, f); err == nil {
		return r
	}
	return f
}

// Alerts returns the alerting rules of every rule file.
func (m *Monitor) Alerts() []rulefmt.Rule {
	var out []rulefmt.Rule
	for _, f := range m.RuleFiles {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Alert != "" {
					out = append(out, r)
				}
			}
		}
	}
	return out
}

// recorded returns the names the recording rules write.
func (m *Monitor) recorded() map[string]bool {
	out := map[string]bool{}
	for _, f := range m.RuleFiles {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					out[r.Record] = true
				}
			}
		}
	}
	return out
}

// Check returns every problem found, one line each, naming the file.
func (m *Monitor) Check() []string {
	problems := slices.Clone(m.problems)
	problems = append(problems, m.checkDashboards()...)
	problems = append(problems, m.checkRules()...)
	for _, e := range m.Exprs() {
		if _, err := parseExpr(e); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", e.Where, err))
		}
	}
	return problems
}

func (m *Monitor) checkDashboards() []string {
	var problems []string
	uids, titles := map[string]string{}, map[string]string{}
	for _, d := range m.Dashboards {
		bad := func(format string, args ...any) {
			problems = append(problems, d.File+": "+fmt.Sprintf(format, args...))
		}
		switch {
		case d.UID == "":
			bad("no uid")
		case len(d.UID) > 40:
			bad("uid %q is longer than the 40 characters Grafana allows", d.UID)
		case uids[d.UID] != "":
			bad("uid %q is also the uid of %s", d.UID, uids[d.UID])
		default:
			uids[d.UID] = d.File
		}
		if d.Title == "" {
			bad("no title")
		} else if titles[d.Title] != "" {
			bad("title %q is also the title of %s", d.Title, titles[d.Title])
		} else {
			titles[d.Title] = d.File
		}
		if d.SchemaVersion < minSchemaVersion {
			bad("schemaVersion %d, want %d or later", d.SchemaVersion, minSchemaVersion)
		}
		var hasDatasource bool
		for _, v := range d.Templating.List {
			if v.Name == "datasource" {
				hasDatasource = v.Type == "datasource" && string(v.Query) == `"prometheus"`
			}
			if v.Type == "query" && !sameDatasource(v.Datasource) {
				bad("variable %s: data source %v, want %v", v.Name, v.Datasource, &wantDatasource)
			}
		}
		if !hasDatasource {
			bad(`no variable "datasource" of type datasource for prometheus`)
		}
		ids := map[int]string{}
		var walk func(ps []*Panel)
		walk = func(ps []*Panel) {
			for _, p := range ps {
				where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
				if p.ID <= 0 {
					bad("%s: id must be a positive number", where)
				} else if other, ok := ids[p.ID]; ok {
					bad("%s: id also used by %q", where, other)
				} else {
					ids[p.ID] = p.Title
				}
				if p.Title == "" {
					bad("%s: no title", where)
				}
				if g := p.GridPos; g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
					bad("%s: gridPos %+v does not fit the 24 columns", where, g)
				}
				if p.Type == "row" {
					walk(p.Panels)
					continue
				}
				if !sameDatasource(p.Datasource) {
					bad("%s: data source %v, want %v", where, p.Datasource, &wantDatasource)
				}
				if len(p.Targets) == 0 {
					bad("%s: no queries", where)
				}
				refs := map[string]bool{}
				for _, t := range p.Targets {
					if t.RefID == "" || refs[t.RefID] {
						bad("%s: refId %q missing or repeated", where, t.RefID)
					}
					refs[t.RefID] = true
					if !sameDatasource(t.Datasource) {
						bad("%s query %s: data source %v, want %v", where, t.RefID, t.Datasource, &wantDatasource)
					}
					if strings.TrimSpace(t.Expr) == "" {
						bad("%s query %s: no expression", where, t.RefID)
					}
				}
			}
		}
		walk(d.Panels)
	}
	return problems
}

func sameDatasource(d *Datasource) bool {
	return d != nil && *d == wantDatasource
}

func (m *Monitor) checkRules() []string {
	var problems []string
	anchors := headingAnchors(m.Runbook)
	fired, quiet, tested := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, t := range m.TestFiles {
		for _, rf := range t.RuleFiles {
			tested[filepath.Clean(filepath.Join(filepath.Dir(t.File), rf))] = true
		}
		for _, tc := range t.Tests {
			for _, at := range tc.AlertRuleTest {
				if len(at.ExpAlerts) > 0 {
					fired[at.Alertname] = true
				} else {
					quiet[at.Alertname] = true
				}
			}
		}
	}
	names := map[string]bool{}
	for _, f := range m.RuleFiles {
		if !tested[filepath.Clean(f.File)] {
			problems = append(problems, fmt.Sprintf("%s: no file in %s loads it", f.File, testGlob))
		}
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Alert == "" {
					continue
				}
				bad := func(format string, args ...any) {
					problems = append(problems, fmt.Sprintf("%s: alert %s: %s", f.File, r.Alert, fmt.Sprintf(format, args...)))
				}
				names[r.Alert] = true
				if !slices.Contains(severities, r.Labels["severity"]) {
					bad("severity %q, want one of %v", r.Labels["severity"], severities)
				}
				for _, a := range []string{"summary", "description", "runbook"} {
					if strings.TrimSpace(r.Annotations[a]) == "" {
						bad("no %s annotation", a)
					}
				}
				if rb := r.Annotations["runbook"]; rb != "" {
					anchor, ok := strings.CutPrefix(rb, runbookPrefix)
					if !ok || !anchors[anchor] {
						bad("runbook %q is not a section of %s (want %s<anchor>)", rb, runbookFile, runbookPrefix)
					}
				}
				if !fired[r.Alert] {
					bad("no unit test shows it firing")
				}
				if !quiet[r.Alert] {
					bad("no unit test shows it quiet")
				}
			}
		}
	}
	for _, t := range m.TestFiles {
		for _, tc := range t.Tests {
			for _, at := range tc.AlertRuleTest {
				if !names[at.Alertname] {
					problems = append(problems, fmt.Sprintf("%s: tests alert %q, which no rule file defines", t.File, at.Alertname))
				}
			}
		}
	}
	return problems
}

// headingAnchors returns the anchors GitHub gives the Markdown headings of
// doc: lower case, punctuation dropped, spaces turned into hyphens.
func headingAnchors(doc string) map[string]bool {
	out := map[string]bool{}
	drop := regexp.MustCompile(`[^\p{L}\p{N}\- _]`)
	for line := range strings.Lines(doc) {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.TrimSpace(strings.TrimLeft(line, "#"))
		h = drop.ReplaceAllString(strings.ToLower(h), "")
		out[strings.ReplaceAll(h, " ", "-")] = true
	}
	return out
}

// Exprs returns every PromQL expression of the folder: rule expressions,
// panel queries and the selectors of query variables.
func (m *Monitor) Exprs() []Expr {
	var out []Expr
	for _, f := range m.RuleFiles {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				out = append(out, Expr{Where: fmt.Sprintf("%s: group %s: %s%s", f.File, g.Name, r.Record, r.Alert), Text: r.Expr})
			}
		}
	}
	for _, d := range m.Dashboards {
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			if q := variableSelector(v.Query); q != "" {
				out = append(out, Expr{Where: fmt.Sprintf("%s: variable %s", d.File, v.Name), Text: q, Dashboard: d})
			}
		}
		var walk func(ps []*Panel)
		walk = func(ps []*Panel) {
			for _, p := range ps {
				walk(p.Panels)
				for _, t := range p.Targets {
					out = append(out, Expr{Where: fmt.Sprintf("%s: panel %d %q query %s", d.File, p.ID, p.Title, t.RefID), Text: t.Expr, Dashboard: d})
				}
			}
		}
		walk(d.Panels)
	}
	return out
}

// variableQuery matches the Prometheus variable queries that hold PromQL:
// label_values(SELECTOR, LABEL) and query_result(EXPR).
var variableQuery = regexp.MustCompile(`^\s*(?:label_values\((.+),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)|query_result\((.+)\))\s*$`)

// variableSelector returns the PromQL inside a query variable, whose query
// is a string or, since Grafana 10, an object holding the string.
func variableSelector(raw json.RawMessage) string {
	var q string
	if err := json.Unmarshal(raw, &q); err != nil {
		var obj struct {
			Query string `json:"query"`
		}
		if json.Unmarshal(raw, &obj) != nil {
			return ""
		}
		q = obj.Query
	}
	sm := variableQuery.FindStringSubmatch(q)
	if sm == nil {
		return ""
	}
	return sm[1] + sm[2]
}

// grafanaVariable matches $name, ${name}, ${name:format} and [[name]].
var grafanaVariable = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]`)

// builtins are Grafana's own variables, with a value that parses where the
// variable stands in a query.
var builtins = map[string]string{
	"__rate_interval": "5m", "__interval": "1m", "__range": "6h",
	"__interval_ms": "60000", "__range_s": "21600", "__range_ms": "21600000",
}

// parseExpr parses e's PromQL after putting a value in place of each
// Grafana variable; a variable the dashboard does not define is an error.
func parseExpr(e Expr) (parser.Expr, error) {
	text := e.Text
	if e.Dashboard != nil {
		defined := map[string]bool{}
		for _, v := range e.Dashboard.Templating.List {
			defined[v.Name] = true
		}
		var undefined []string
		text = grafanaVariable.ReplaceAllStringFunc(text, func(s string) string {
			sm := grafanaVariable.FindStringSubmatch(s)
			name := sm[1] + sm[2] + sm[3]
			if v, ok := builtins[name]; ok {
				return v
			}
			if !defined[name] {
				undefined = append(undefined, name)
			}
			// Variables stand in label values, which are strings.
			return "value"
		})
		if len(undefined) > 0 {
			return nil, fmt.Errorf("uses undefined variables %v", undefined)
		}
	}
	expr, err := promql.ParseExpr(text)
	if err != nil {
		return nil, fmt.Errorf("PromQL: %w", err)
	}
	return expr, nil
}

// MetricNames returns the sorted names of the metrics that the dashboards
// and rules read, leaving out what the recording rules write. Expressions
// that do not parse are left out too; Check reports them.
func (m *Monitor) MetricNames() []string {
	recorded := m.recorded()
	set := map[string]bool{}
	for _, e := range m.Exprs() {
		expr, err := parseExpr(e)
		if err != nil {
			continue
		}
		for _, n := range selectedNames(expr) {
			if !recorded[n] {
				set[n] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// selectedNames returns the metric names that expr's selectors select by
// name exactly.
func selectedNames(expr parser.Expr) []string {
	var out []string
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		if vs.Name != "" {
			out = append(out, vs.Name)
			return nil
		}
		for _, lm := range vs.LabelMatchers {
			if lm.Name == model.MetricNameLabel && lm.Type == labels.MatchEqual {
				out = append(out, lm.Value)
			}
		}
		return nil
	})
	return out
}
