// Command monitorcheck checks the operators' views in monitor/: the Grafana
// dashboards (valid JSON, unique uids and panel ids, the Prometheus data
// source by variable, every query valid PromQL that uses only defined
// variables), the Prometheus rules (severity, summary, description and a
// runbook section that exists) and their unit tests (every alert shown both
// firing and quiet). With -names it prints instead the metric names that the
// dashboards and rules read, one a line, which the end-to-end telemetry test
// compares with what the binary exports. It parses PromQL with Prometheus's
// own parser, which is why it lives in this tool module and not in the main
// one. It must never change the files it checks.
//
//	monitorcheck [-names] MONITOR_DIR
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	names := flag.Bool("names", false, "print the metric names the dashboards and rules read, one a line, instead of the findings")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: monitorcheck [-names] MONITOR_DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	m, err := Load(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "monitorcheck:", err)
		os.Exit(1)
	}
	if *names {
		fmt.Println(strings.Join(m.MetricNames(), "\n"))
		return
	}
	problems := m.Check()
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "monitorcheck: %d problems in %s\n", len(problems), flag.Arg(0))
		os.Exit(1)
	}
	fmt.Printf("monitorcheck: %d dashboards, %d rule files, %d alerts: ok\n", len(m.Dashboards), len(m.RuleFiles), len(m.Alerts()))
}
