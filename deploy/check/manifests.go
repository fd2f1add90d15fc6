package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Object is one decoded document of a rendered chart.
type Object struct {
	// Source is the template the document came from (helm's "# Source:" comment), or "document N".
	Source string
	Kind   string
	Name   string
	Value  runtime.Object
}

// newScheme registers exactly the API groups a Lintas chart may render. A kind outside them is an
// error: the check must never pass a document it could not verify.
func newScheme() (*runtime.Scheme, error) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme,
		appsv1.AddToScheme,
		batchv1.AddToScheme,
		policyv1.AddToScheme,
		autoscalingv2.AddToScheme,
		networkingv1.AddToScheme,
		rbacv1.AddToScheme,
		monitoringv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	return scheme, nil
}

// DecodeManifests splits a multi-document YAML stream (helm template output) and decodes every
// document strictly into its Kubernetes API type: unknown fields, duplicate fields, wrong types and
// unregistered apiVersion/kind pairs are errors. All errors are collected, not just the first.
func DecodeManifests(stream io.Reader) ([]Object, error) {
	scheme, err := newScheme()
	if err != nil {
		return nil, err
	}
	decoder := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme,
		json.SerializerOptions{Yaml: true, Strict: true})
	reader := utilyaml.NewYAMLReader(bufio.NewReader(stream))
	var objects []Object
	var problems []error
	for index := 1; ; index++ {
		document, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: reading yaml: %w", index, err)
		}
		source := sourceOf(document, index)
		if isEmptyDocument(document) {
			continue
		}
		value, kind, err := decoder.Decode(document, nil, nil)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", source, err))
			continue
		}
		objects = append(objects, Object{
			Source: source,
			Kind:   kind.Kind,
			Name:   nameOf(document),
			Value:  value,
		})
	}
	if len(objects) == 0 && len(problems) == 0 {
		problems = append(problems, errors.New("no documents to check"))
	}
	return objects, errors.Join(problems...)
}

func sourceOf(document []byte, index int) string {
	for _, line := range strings.Split(string(document), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "# Source:"); ok {
			return strings.TrimSpace(rest)
		}
	}
	return fmt.Sprintf("document %d", index)
}

// isEmptyDocument is true for documents holding only comments and whitespace (helm emits those for
// templates whose condition is false).
func isEmptyDocument(document []byte) bool {
	for _, line := range bytes.Split(document, []byte("\n")) {
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) > 0 && trimmed[0] != '#' && string(trimmed) != "---" {
			return false
		}
	}
	return true
}

func nameOf(document []byte) string {
	var meta struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	// The strict decode already succeeded; a name-less document just reports "".
	_ = yaml.Unmarshal(document, &meta)
	return meta.Metadata.Name
}
