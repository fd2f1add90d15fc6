package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// runExtract writes what a pod of each workload would see, so the real binary can validate it
// (`lintas config check`): every ConfigMap's lintas.toml as DIR/<configmap>.toml, and each
// Deployment's or StatefulSet's container env as DIR/<workload>.env (NAME=VALUE lines). Values from
// secretKeyRef become a placeholder naming the variable, unique per variable and long enough for
// a write key, since the real secret is never in the chart.
func runExtract(args []string) error {
	flags := flag.NewFlagSet("extract", flag.ContinueOnError)
	out := flags.String("out", "", "directory to write the files to")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *out == "" || flags.NArg() != 1 {
		return errors.New("extract: -out DIR and one rendered manifest file are required")
	}
	objects, err := decodeFile(flags.Arg(0))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	written := 0
	for _, object := range objects {
		switch value := object.Value.(type) {
		case *corev1.ConfigMap:
			if toml, ok := value.Data["lintas.toml"]; ok {
				if err := os.WriteFile(filepath.Join(*out, value.Name+".toml"), []byte(toml), 0o644); err != nil {
					return err
				}
				written++
			}
		case *appsv1.Deployment, *appsv1.StatefulSet:
			name, template := workloadPod(value)
			for _, container := range template.Spec.Containers {
				lines := envLines(container.Env, name+"-0")
				if err := os.WriteFile(filepath.Join(*out, name+".env"), []byte(lines), 0o644); err != nil {
					return err
				}
				written++
			}
		}
	}
	if written == 0 {
		return errors.New("extract: no ConfigMap with lintas.toml and no Deployment or StatefulSet found")
	}
	return nil
}

// workloadPod returns a Deployment's or StatefulSet's name and pod template.
func workloadPod(workload any) (string, corev1.PodTemplateSpec) {
	switch value := workload.(type) {
	case *appsv1.Deployment:
		return value.Name, value.Spec.Template
	case *appsv1.StatefulSet:
		return value.Name, value.Spec.Template
	}
	return "", corev1.PodTemplateSpec{}
}

// envLines renders a container's env as NAME=VALUE lines: secretKeyRef values as placeholders,
// a metadata.name fieldRef as podName (what the pod's first replica would read). Any other
// valueFrom is an error line, so `lintas config check` cannot silently miss a setting.
func envLines(env []corev1.EnvVar, podName string) string {
	lines := make([]string, 0, len(env))
	for _, variable := range env {
		from := variable.ValueFrom
		switch {
		case from == nil:
			lines = append(lines, variable.Name+"="+variable.Value)
		case from.SecretKeyRef != nil:
			lines = append(lines, fmt.Sprintf("%s=secret-%s", variable.Name,
				strings.ToLower(strings.ReplaceAll(variable.Name, "_", "-"))))
		case from.FieldRef != nil && from.FieldRef.FieldPath == "metadata.name":
			lines = append(lines, variable.Name+"="+podName)
		default:
			lines = append(lines, variable.Name+"=unsupported-valueFrom-in-deploy-check")
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}
