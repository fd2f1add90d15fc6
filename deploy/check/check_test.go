package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

const chartDir = "../helm/lintas"

// helmBinary finds helm the way scripts/test.sh installs it; a missing helm fails the test, it
// never skips, because the test is the proof the issue asks for.
func helmBinary(t *testing.T) string {
	t.Helper()
	if path := os.Getenv("HELM"); path != "" {
		return path
	}
	if path, err := exec.LookPath("helm"); err == nil {
		return path
	}
	t.Fatal("helm not found: set HELM or put helm on PATH (scripts/test.sh step deploy installs it)")
	return ""
}

func renderChart(t *testing.T, chart string, valuesFiles ...string) string {
	t.Helper()
	args := []string{"template", "lintas-test", chart, "--namespace", "lintas", "--kube-version", "1.31.0"}
	for _, file := range valuesFiles {
		args = append(args, "-f", file)
	}
	out, err := exec.Command(helmBinary(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// copyChart copies the chart so a test can break one template without touching the real one.
func copyChart(t *testing.T) string {
	t.Helper()
	target := filepath.Join(t.TempDir(), "lintas")
	err := filepath.WalkDir(chartDir, func(path string, entry os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		relative, _ := filepath.Rel(chartDir, path)
		if entry.IsDir() {
			return os.MkdirAll(filepath.Join(target, relative), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(target, relative), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return target
}

func editFile(t *testing.T, path, old, replacement string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s does not contain %q: the test no longer matches the template", path, old)
	}
	edited := strings.Replace(string(data), old, replacement, 1)
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
}

func decodeString(t *testing.T, manifests string) ([]Object, error) {
	t.Helper()
	return DecodeManifests(strings.NewReader(manifests))
}

func TestTheChartRendersToStrictlyValidObjectsForBothValuesFiles(t *testing.T) {
	production := filepath.Join(chartDir, "ci", "production-values.yaml")
	minimal := filepath.Join(t.TempDir(), "minimal.yaml")
	// The two values every install must set (README); everything else is a default.
	if err := os.WriteFile(minimal, []byte("kafka: {brokers: \"kafka:9092\"}\nclickhouse: {url: \"http://clickhouse:8123\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, values := range map[string]string{"defaults": minimal, "production": production} {
		objects, err := decodeString(t, renderChart(t, chartDir, values))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := CheckReferences(objects); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		workloads := map[string]string{}
		for _, object := range objects {
			if object.Kind == "Deployment" || object.Kind == "StatefulSet" {
				workloads[object.Name] = object.Kind
			}
		}
		want := map[string]string{"lintas-test-gateway": "Deployment",
			"lintas-test-classifier": "StatefulSet", "lintas-test-sink": "Deployment"}
		if !reflect.DeepEqual(workloads, want) {
			t.Fatalf("%s: workloads %v rendered, want %v", name, workloads, want)
		}
	}
}

func TestAnUnknownFieldAddedToATemplateFailsTheCheck(t *testing.T) {
	chart := copyChart(t)
	editFile(t, filepath.Join(chart, "templates", "deployments.yaml"),
		"  revisionHistoryLimit: 5\n", "  revisionHistoryLimit: 5\n  revisionHistoryLimitt: 5\n")
	_, err := decodeString(t, renderChart(t, chart, filepath.Join(chartDir, "ci", "production-values.yaml")))
	if err == nil {
		t.Fatal("a Deployment with spec.revisionHistoryLimitt passed the strict check")
	}
	for _, want := range []string{`unknown field "spec.revisionHistoryLimitt"`, "templates/deployments.yaml"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error does not name %q:\n%v", want, err)
		}
	}
}

func TestAnUnknownFieldInACustomResourceFailsTheCheck(t *testing.T) {
	chart := copyChart(t)
	editFile(t, filepath.Join(chart, "templates", "servicemonitor.yaml"),
		"      path: /metrics\n", "      path: /metrics\n      scrapeEvery: 30s\n")
	_, err := decodeString(t, renderChart(t, chart, filepath.Join(chartDir, "ci", "production-values.yaml")))
	if err == nil || !strings.Contains(err.Error(), `unknown field "spec.endpoints[0].scrapeEvery"`) {
		t.Fatalf("want the unknown ServiceMonitor field named, got %v", err)
	}
}

func TestUnknownKindsWrongTypesAndDuplicateFieldsFail(t *testing.T) {
	cases := map[string]struct{ document, want string }{
		"unknown kind": {
			"apiVersion: v1\nkind: Secrett\nmetadata: {name: x}\n",
			`no kind "Secrett" is registered`,
		},
		"unregistered group": {
			"apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: x}\n",
			`no kind "Certificate" is registered`,
		},
		"wrong type": {
			"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: two}\n",
			"replicas",
		},
		"duplicate field": {
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\ndata: {c: d}\n",
			`"data" already set`,
		},
	}
	for name, tc := range cases {
		_, err := decodeString(t, tc.document)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want an error containing %q, got %v", name, tc.want, err)
		}
	}
}

func TestReferencesCatchAServiceThatSelectsNoPod(t *testing.T) {
	chart := copyChart(t)
	editFile(t, filepath.Join(chart, "templates", "services.yaml"),
		"  selector:\n    {{- include \"lintas.roleSelectorLabels\" $ctx | nindent 4 }}\n  ports:\n    - name: http",
		"  selector:\n    app: nothing\n  ports:\n    - name: http")
	objects, err := decodeString(t, renderChart(t, chart, filepath.Join(chartDir, "ci", "production-values.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	err = CheckReferences(objects)
	if err == nil || !strings.Contains(err.Error(), "matches no rendered pod template") {
		t.Fatalf("want the dangling Service selector reported, got %v", err)
	}
}

func TestTheChartRefusesToRenderWithoutBrokersOrClickhouse(t *testing.T) {
	out, err := exec.Command(helmBinary(t), "template", "x", chartDir, "--kube-version", "1.31.0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "kafka.brokers is required") {
		t.Fatalf("want a render failure naming kafka.brokers, got %v:\n%s", err, out)
	}
}

func TestMetricsAreExtractedFromPromQLWithHistogramSuffixes(t *testing.T) {
	expr := `histogram_quantile(0.99, sum by (le) (rate(lintas_sink_insert_duration_seconds_bucket{namespace="$namespace"}[$__rate_interval])))` +
		` / sum(lintas_sink_buffered_rows) and on() lintas_ready`
	got := strings.Join(ExtractMetrics(expr), ",")
	want := "lintas_sink_insert_duration_seconds_bucket,lintas_sink_buffered_rows,lintas_ready"
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if err := checkPromQL(`sum(rate(x[5m])`); err == nil {
		t.Fatal("an unclosed parenthesis passed")
	}
}

func TestTheCommittedMetricListMatchesTheDashboardsAndAlerts(t *testing.T) {
	objects, err := decodeString(t, renderChart(t, chartDir, filepath.Join(chartDir, "ci", "production-values.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	used, err := DashboardMetrics("../grafana")
	if err != nil {
		t.Fatal(err)
	}
	rules, count := RuleMetrics(objects)
	if count < 4 {
		t.Fatalf("%d alert rules rendered; lag, DLQ, 5xx and insert errors are required", count)
	}
	for name := range rules {
		used[name] = true
	}
	current, err := os.ReadFile("../metrics.txt")
	if err != nil {
		t.Fatal(err)
	}
	if diff := DiffMetricLists(string(current), RenderMetricList(used)); diff != "" {
		t.Fatalf("deploy/metrics.txt is stale:\n%s", diff)
	}
}

func TestEachClassifierPodTakesItsNameAsItsKafkaInstanceID(t *testing.T) {
	objects, err := decodeString(t, renderChart(t, chartDir, filepath.Join(chartDir, "ci", "production-values.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	for _, object := range objects {
		set, ok := object.Value.(*appsv1.StatefulSet)
		if !ok || object.Name != "lintas-test-classifier" {
			continue
		}
		for _, variable := range set.Spec.Template.Spec.Containers[0].Env {
			if variable.Name == "LINTAS__CLASSIFIER__INSTANCE_ID" {
				if variable.ValueFrom == nil || variable.ValueFrom.FieldRef == nil ||
					variable.ValueFrom.FieldRef.FieldPath != "metadata.name" {
					t.Fatalf("instance id not from the pod name: %+v", variable)
				}
				return
			}
		}
		t.Fatal("the classifier StatefulSet sets no LINTAS__CLASSIFIER__INSTANCE_ID")
	}
	t.Fatal("no classifier StatefulSet rendered")
}

func TestAKeyTheChartManagesIsRefusedUnderConfig(t *testing.T) {
	values := filepath.Join(t.TempDir(), "values.yaml")
	data := "kafka: {brokers: \"kafka:9092\"}\nclickhouse: {url: \"http://clickhouse:8123\"}\n" +
		"config: {sink: {batch_max_rows: 10}}\n"
	if err := os.WriteFile(values, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(helmBinary(t), "template", "x", chartDir, "--kube-version", "1.31.0",
		"-f", values).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "config.sink.batch_max_rows is managed by the chart: use sink.batchMaxRows") {
		t.Fatalf("want the render refused naming sink.batchMaxRows, got %v:\n%s", err, out)
	}
}
