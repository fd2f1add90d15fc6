package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const defaultToml = "../../crates/lintas-config/src/default.toml"

// lintasDefaults reads the scalar `key = value` lines of Lintas' embedded defaults by section
// ("clickhouse.cluster" -> `""`), values as written (strings keep their quotes). default.toml holds
// only flat sections and scalars besides comments, which is all the chart's values mirror.
func lintasDefaults(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(defaultToml)
	if err != nil {
		t.Fatal(err)
	}
	section := ""
	header := regexp.MustCompile(`^\[([a-z_.]+)\]$`)
	pair := regexp.MustCompile(`^([a-z_]+) = (.+)$`)
	defaults := map[string]string{}
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if match := header.FindStringSubmatch(line); match != nil {
			section = match[1]
		} else if match := pair.FindStringSubmatch(line); match != nil {
			defaults[section+"."+match[1]] = match[2]
		}
	}
	return defaults
}

// chartValue returns a value of values.yaml at a dotted path, formatted as TOML would write it.
func chartValue(t *testing.T, values map[string]any, path string) string {
	t.Helper()
	var current any = values
	for _, part := range strings.Split(path, ".") {
		table, ok := current.(map[string]any)
		if !ok {
			t.Fatalf("values.yaml: %s is not a table", path)
		}
		if current, ok = table[part]; !ok {
			t.Fatalf("values.yaml has no %s", path)
		}
	}
	switch value := current.(type) {
	case string:
		return fmt.Sprintf("%q", value)
	case json.Number:
		return value.String()
	default:
		t.Fatalf("values.yaml: %s is %T, want a string or a number", path, current)
		return ""
	}
}

// The chart writes these values into lintas.toml; their defaults must stay Lintas' own, so an
// install with the chart's defaults behaves like the documented configuration reference.
func TestTheChartDefaultsEqualLintasDefaults(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	asJSON, err := yaml.YAMLToJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	decoder := json.NewDecoder(bytes.NewReader(asJSON))
	decoder.UseNumber()
	var values map[string]any
	if err := decoder.Decode(&values); err != nil {
		t.Fatal(err)
	}
	mirrored := map[string]string{
		"kafka.securityProtocol":        "kafka.security_protocol",
		"clickhouse.database":           "clickhouse.database",
		"clickhouse.user":               "clickhouse.user",
		"clickhouse.requestTimeout":     "clickhouse.request_timeout",
		"clickhouse.cluster":            "clickhouse.cluster",
		"clickhouse.dedupWindowBlocks":  "clickhouse.dedup_window_blocks",
		"classifier.groupId":            "classifier.group_id",
		"classifier.transactionTimeout": "classifier.transaction_timeout",
		"classifier.batchMaxRecords":    "classifier.batch_max_records",
		"classifier.batchMaxWait":       "classifier.batch_max_wait",
		"sink.groupId":                  "sink.group_id",
		"sink.batchMaxRows":             "sink.batch_max_rows",
		"sink.batchMaxBytes":            "sink.batch_max_bytes",
		"sink.batchMaxWait":             "sink.batch_max_wait",
		"sink.retryInitialBackoff":      "sink.retry_initial_backoff",
		"sink.retryMaxBackoff":          "sink.retry_max_backoff",
		"sink.ttlDays":                  "sink.ttl_days",
		"config.telemetry.log_level":    "telemetry.log_level",
	}
	defaults := lintasDefaults(t)
	for valuesPath, key := range mirrored {
		want, ok := defaults[key]
		if !ok {
			t.Errorf("%s has no key %s (values.yaml %s mirrors it)", defaultToml, key, valuesPath)
			continue
		}
		if got := chartValue(t, values, valuesPath); got != want {
			t.Errorf("values.yaml %s = %s, but Lintas' default %s = %s", valuesPath, got, key, want)
		}
	}
}
