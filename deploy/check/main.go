// Command check verifies the Lintas deployment artefacts without a cluster:
//
//	check manifests FILE...
//	    decodes every document of rendered manifests (helm template output) strictly into its
//	    Kubernetes API type (unknown or duplicate fields, wrong types and unknown kinds fail),
//	    then checks the references between the objects (selectors, ports, volumes, names).
//	check metrics -list FILE [-write] -dashboards DIR MANIFEST...
//	    parses the Grafana dashboards, extracts every metric their Prometheus queries and the
//	    PrometheusRules in the manifests name, and compares the set with FILE (or writes it).
//	    tests/deploy_metrics.rs then checks that running roles export every name in FILE.
//	check extract -out DIR MANIFEST
//	    writes each ConfigMap's lintas.toml and each workload's env, for `lintas config check`.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: check manifests FILE... | check metrics -list FILE [-write] -dashboards DIR MANIFEST... | check extract -out DIR MANIFEST")
	}
	switch args[0] {
	case "manifests":
		return runManifests(args[1:])
	case "metrics":
		return runMetrics(args[1:])
	case "extract":
		return runExtract(args[1:])
	default:
		return fmt.Errorf("unknown command %q: expected manifests, metrics or extract", args[0])
	}
}

func runManifests(files []string) error {
	if len(files) == 0 {
		return errors.New("manifests: no files given")
	}
	var problems []error
	for _, file := range files {
		objects, err := decodeFile(file)
		if err == nil {
			err = CheckReferences(objects)
		}
		if err != nil {
			problems = append(problems, fmt.Errorf("%s:\n%w", file, err))
			continue
		}
		fmt.Printf("%s: %d objects decoded strictly, references resolved: %s\n", file,
			len(objects), kindSummary(objects))
	}
	return errors.Join(problems...)
}

func decodeFile(file string) ([]Object, error) {
	stream, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	return DecodeManifests(stream)
}

func kindSummary(objects []Object) string {
	counts := map[string]int{}
	for _, object := range objects {
		counts[object.Kind]++
	}
	kinds := make([]string, 0, len(counts))
	for kind, count := range counts {
		kinds = append(kinds, fmt.Sprintf("%d %s", count, kind))
	}
	sort.Strings(kinds)
	return strings.Join(kinds, ", ")
}

func runMetrics(args []string) error {
	flags := flag.NewFlagSet("metrics", flag.ContinueOnError)
	list := flags.String("list", "", "file listing every metric the dashboards and alerts use")
	write := flags.Bool("write", false, "rewrite -list instead of comparing with it")
	dashboards := flags.String("dashboards", "", "directory of Grafana dashboard JSON files")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *list == "" || *dashboards == "" || flags.NArg() == 0 {
		return errors.New("metrics: -list, -dashboards and at least one rendered manifest file are required")
	}
	used, err := DashboardMetrics(*dashboards)
	if err != nil {
		return err
	}
	rules := 0
	for _, file := range flags.Args() {
		objects, err := decodeFile(file)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		names, count := RuleMetrics(objects)
		rules += count
		for name := range names {
			used[name] = true
		}
	}
	if rules == 0 {
		return errors.New("metrics: the manifests hold no PrometheusRule alert: render with metrics.prometheusRule.enabled")
	}
	wanted := RenderMetricList(used)
	if *write {
		return os.WriteFile(*list, []byte(wanted), 0o644)
	}
	current, err := os.ReadFile(*list)
	if err != nil {
		return err
	}
	if diff := DiffMetricLists(string(current), wanted); diff != "" {
		return fmt.Errorf("%s is stale (dashboards or alerts changed):\n%s\nregenerate it with -write", *list, diff)
	}
	fmt.Printf("%s: %d metrics used by the dashboards and %d alert rules, list up to date\n", *list,
		len(used), rules)
	return nil
}
