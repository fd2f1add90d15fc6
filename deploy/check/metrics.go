package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
)

// metricName matches a Lintas metric in a PromQL expression. Every Lintas metric starts with
// "lintas_" (crates/lintas-telemetry), and no label name or function does, so a word match is
// exact; histogram series keep their _bucket/_sum/_count suffix because that is the series the
// query reads.
var metricName = regexp.MustCompile(`\blintas_[a-z0-9_]*[a-z0-9]`)

// ExtractMetrics returns the Lintas metric names an expression reads.
func ExtractMetrics(expr string) []string {
	return metricName.FindAllString(expr, -1)
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type target struct {
	RefID      string      `json:"refId"`
	Expr       string      `json:"expr"`
	RawSQL     string      `json:"rawSql"`
	Datasource *datasource `json:"datasource"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	GridPos    *struct {
		H int `json:"h"`
		W int `json:"w"`
	} `json:"gridPos"`
	Targets []target `json:"targets"`
	Panels  []panel  `json:"panels"`
}

type templateVariable struct {
	Name  string          `json:"name"`
	Type  string          `json:"type"`
	Query json.RawMessage `json:"query"`
}

type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []templateVariable `json:"list"`
	} `json:"templating"`
}

// DashboardMetrics parses every *.json dashboard in dir, checks its structure, and returns the
// Lintas metrics its Prometheus queries and query variables read.
func DashboardMetrics(dir string) (map[string]bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no dashboards (*.json) in %s", dir)
	}
	used := map[string]bool{}
	var problems []error
	uids := map[string]string{}
	for _, file := range files {
		names, uid, err := dashboardFileMetrics(file)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", file, err))
			continue
		}
		if other, taken := uids[uid]; taken {
			problems = append(problems, fmt.Errorf("%s: uid %q is also used by %s", file, uid, other))
		}
		uids[uid] = file
		for _, name := range names {
			used[name] = true
		}
	}
	return used, errors.Join(problems...)
}

func dashboardFileMetrics(file string) ([]string, string, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, "", err
	}
	var board dashboard
	if err := json.Unmarshal(raw, &board); err != nil {
		return nil, "", fmt.Errorf("not valid dashboard JSON: %w", err)
	}
	names, err := CheckDashboard(board)
	return names, board.UID, err
}

// CheckDashboard checks what Grafana would otherwise show as broken panels, and returns the
// metrics the dashboard reads.
func CheckDashboard(board dashboard) ([]string, error) {
	var problems []error
	fail := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	if board.UID == "" || board.Title == "" || board.SchemaVersion == 0 {
		fail("uid, title and schemaVersion are required")
	}
	var names []string
	ids := map[int]bool{}
	var walk func(panels []panel)
	walk = func(panels []panel) {
		for _, p := range panels {
			if ids[p.ID] {
				fail("panel id %d is used twice", p.ID)
			}
			ids[p.ID] = true
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			if p.Title == "" || p.GridPos == nil || p.GridPos.H == 0 || p.GridPos.W == 0 {
				fail("panel %d (%q): title and a gridPos with h and w are required", p.ID, p.Title)
			}
			if len(p.Targets) == 0 {
				fail("panel %d (%q) has no queries", p.ID, p.Title)
			}
			refs := map[string]bool{}
			for _, t := range p.Targets {
				if t.RefID == "" || refs[t.RefID] {
					fail("panel %d (%q): refId %q is empty or repeated", p.ID, p.Title, t.RefID)
				}
				refs[t.RefID] = true
				source := t.Datasource
				if source == nil {
					source = p.Datasource
				}
				switch {
				case source == nil:
					fail("panel %d (%q) target %s has no datasource", p.ID, p.Title, t.RefID)
				case source.Type == "prometheus":
					if err := checkPromQL(t.Expr); err != nil {
						fail("panel %d (%q) target %s: %v", p.ID, p.Title, t.RefID, err)
					}
					names = append(names, ExtractMetrics(t.Expr)...)
				case strings.Contains(source.Type, "clickhouse"):
					if strings.TrimSpace(t.RawSQL) == "" {
						fail("panel %d (%q) target %s: empty rawSql", p.ID, p.Title, t.RefID)
					}
				default:
					fail("panel %d (%q) target %s: unsupported datasource type %q", p.ID, p.Title,
						t.RefID, source.Type)
				}
			}
		}
	}
	walk(board.Panels)
	for _, variable := range board.Templating.List {
		if variable.Type != "query" {
			continue
		}
		// The query is a string in older dashboards and {"query": "..."} in newer ones.
		var query string
		if json.Unmarshal(variable.Query, &query) != nil {
			var wrapped struct {
				Query string `json:"query"`
			}
			_ = json.Unmarshal(variable.Query, &wrapped)
			query = wrapped.Query
		}
		names = append(names, ExtractMetrics(query)...)
	}
	if len(names) == 0 && len(problems) == 0 && board.Panels != nil && usesPrometheus(board.Panels) {
		fail("no Lintas metric is queried")
	}
	return names, errors.Join(problems...)
}

func usesPrometheus(panels []panel) bool {
	for _, p := range panels {
		if (p.Datasource != nil && p.Datasource.Type == "prometheus") || usesPrometheus(p.Panels) {
			return true
		}
	}
	return false
}

// checkPromQL catches the mistakes a hand-edited query makes most: an empty query and unbalanced
// brackets or quotes. Full parsing would need the Prometheus module for little more.
func checkPromQL(expr string) error {
	if strings.TrimSpace(expr) == "" {
		return errors.New("empty expr")
	}
	var stack []rune
	closing := map[rune]rune{')': '(', ']': '[', '}': '{'}
	inString := false
	for _, char := range expr {
		switch {
		case char == '"':
			inString = !inString
		case inString:
		case char == '(' || char == '[' || char == '{':
			stack = append(stack, char)
		case closing[char] != 0:
			if len(stack) == 0 || stack[len(stack)-1] != closing[char] {
				return fmt.Errorf("unbalanced %q in %q", char, expr)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if inString || len(stack) > 0 {
		return fmt.Errorf("unclosed bracket or quote in %q", expr)
	}
	return nil
}

// RuleMetrics returns the Lintas metrics the PrometheusRules among objects read, and the number of
// rules seen.
func RuleMetrics(objects []Object) (map[string]bool, int) {
	used := map[string]bool{}
	count := 0
	for _, object := range objects {
		rule, ok := object.Value.(*monitoringv1.PrometheusRule)
		if !ok {
			continue
		}
		for _, group := range rule.Spec.Groups {
			for _, r := range group.Rules {
				count++
				for _, name := range ExtractMetrics(r.Expr.String()) {
					used[name] = true
				}
			}
		}
	}
	return used, count
}

const listHeader = `# Every metric the Grafana dashboards (deploy/grafana) and the chart's PrometheusRule read.
# Generated by deploy/check (scripts/test.sh step "deploy" fails when it is stale);
# tests/deploy_metrics.rs checks that running roles export each of them.
`

// RenderMetricList renders the metric list file: the header and one sorted name per line.
func RenderMetricList(used map[string]bool) string {
	names := make([]string, 0, len(used))
	for name := range used {
		names = append(names, name)
	}
	sort.Strings(names)
	return listHeader + strings.Join(names, "\n") + "\n"
}

// DiffMetricLists names the metrics missing from or extra in the current list file.
func DiffMetricLists(current, wanted string) string {
	parse := func(text string) map[string]bool {
		set := map[string]bool{}
		for _, line := range strings.Split(text, "\n") {
			line = strings.TrimSpace(line)
			if line != "" && !strings.HasPrefix(line, "#") {
				set[line] = true
			}
		}
		return set
	}
	have, want := parse(current), parse(wanted)
	var lines []string
	for name := range want {
		if !have[name] {
			lines = append(lines, "  missing: "+name)
		}
	}
	for name := range have {
		if !want[name] {
			lines = append(lines, "  no longer used: "+name)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
