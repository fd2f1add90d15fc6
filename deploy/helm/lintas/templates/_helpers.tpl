{{/* Names, labels and the pieces every role's pod shares. */}}

{{- define "lintas.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-<chart>, or the release alone when it already contains the chart name. Role names
append "-<role>", so this stays under 63 - len("-classifier"). */}}
{{- define "lintas.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "lintas.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "lintas.labels" -}}
helm.sh/chart: {{ include "lintas.chart" . }}
{{ include "lintas.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: lintas
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "lintas.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lintas.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of one role's objects; call with (dict "root" $ "role" "gateway"). */}}
{{- define "lintas.roleLabels" -}}
{{ include "lintas.labels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "lintas.roleSelectorLabels" -}}
{{ include "lintas.selectorLabels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "lintas.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "lintas.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "lintas.image" -}}
{{- if .Values.image.tag -}}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag -}}
{{- else if contains "@" .Values.image.repository -}}
{{- .Values.image.repository -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository .Chart.AppVersion -}}
{{- end -}}
{{- end -}}

{{/* Turns whole-number floats into int64 in place. Helm reads every number in values as float64
and toToml would write 50000 as 50000.0, which Lintas refuses for an integer key. */}}
{{- define "lintas.intify" -}}
{{- $map := . -}}
{{- range $key, $value := $map -}}
{{- if kindIs "float64" $value -}}
{{- if eq $value (float64 (int64 $value)) -}}
{{- $_ := set $map $key (int64 $value) -}}
{{- end -}}
{{- else if kindIs "map" $value -}}
{{- include "lintas.intify" $value -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Fails the render on settings that would make every role refuse to start or silently use the
development broker. */}}
{{- define "lintas.validate" -}}
{{- if not .Values.kafka.brokers -}}
{{- fail "kafka.brokers is required: the bootstrap brokers, e.g. kafka-0.kafka:9092 (empty would start the in-memory development broker)" -}}
{{- end -}}
{{- if not .Values.clickhouse.url -}}
{{- fail "clickhouse.url is required: the ClickHouse HTTP URL, e.g. http://clickhouse:8123" -}}
{{- end -}}
{{- $protocols := list "plaintext" "ssl" "sasl_plaintext" "sasl_ssl" -}}
{{- if not (has .Values.kafka.securityProtocol $protocols) -}}
{{- fail (printf "kafka.securityProtocol is %q: expected one of %s" .Values.kafka.securityProtocol (join ", " $protocols)) -}}
{{- end -}}
{{- if hasPrefix "sasl_" .Values.kafka.securityProtocol -}}
{{- if or (not .Values.kafka.sasl.mechanism) (not .Values.kafka.sasl.username) (not .Values.secrets.kafkaSaslPasswordKey) -}}
{{- fail "kafka.securityProtocol sasl_* needs kafka.sasl.mechanism, kafka.sasl.username and secrets.kafkaSaslPasswordKey" -}}
{{- end -}}
{{- end -}}
{{- $keys := list .Values.secrets.kafkaSaslPasswordKey .Values.secrets.clickhousePasswordKey -}}
{{- if and (not .Values.secrets.existingSecret) (or (compact $keys) .Values.secrets.extraEnv .Values.gateway.tenants) -}}
{{- fail "secrets.existingSecret is required: secret keys or tenants are set, and they refer to keys of that Secret" -}}
{{- end -}}
{{- range $name, $key := .Values.secrets.extraEnv -}}
{{- if not (hasPrefix "LINTAS__" $name) -}}
{{- fail (printf "secrets.extraEnv.%s: names must start with LINTAS__" $name) -}}
{{- end -}}
{{- end -}}
{{- /* Keys the chart sets from its own values: the same key under `config` would be silently
overwritten, so it is refused with the value to use instead. */ -}}
{{- $managed := dict
  "kafka" (dict "brokers" "kafka.brokers" "security_protocol" "kafka.securityProtocol" "sasl_mechanism" "kafka.sasl.mechanism" "sasl_username" "kafka.sasl.username" "sasl_password" "secrets.kafkaSaslPasswordKey" "ssl_ca_location" "kafka.tls.caSecret")
  "clickhouse" (dict "url" "clickhouse.url" "database" "clickhouse.database" "user" "clickhouse.user" "password" "secrets.clickhousePasswordKey" "request_timeout" "clickhouse.requestTimeout" "cluster" "clickhouse.cluster" "dedup_window_blocks" "clickhouse.dedupWindowBlocks")
  "classifier" (dict "group_id" "classifier.groupId" "instance_id" "(set per pod from its name)" "transaction_timeout" "classifier.transactionTimeout" "batch_max_records" "classifier.batchMaxRecords" "batch_max_wait" "classifier.batchMaxWait")
  "sink" (dict "group_id" "sink.groupId" "batch_max_rows" "sink.batchMaxRows" "batch_max_bytes" "sink.batchMaxBytes" "batch_max_wait" "sink.batchMaxWait" "retry_initial_backoff" "sink.retryInitialBackoff" "retry_max_backoff" "sink.retryMaxBackoff" "ttl_days" "sink.ttlDays")
  "gateway" (dict "listen" "gateway.port")
  "telemetry" (dict "admin_listen" "classifier.adminPort / sink.adminPort" "log_format" "(always json)")
  "tenants" (dict)
-}}
{{- range $section, $keys := $managed -}}
{{- $given := index ($.Values.config | default dict) $section -}}
{{- if and (eq $section "tenants") $given -}}
{{- fail "config.tenants: tenants hold secrets; list them in gateway.tenants with keys of secrets.existingSecret" -}}
{{- end -}}
{{- if kindIs "map" $given -}}
{{- range $key, $use := $keys -}}
{{- if hasKey $given $key -}}
{{- fail (printf "config.%s.%s is managed by the chart: use %s" $section $key $use) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range .Values.gateway.tenants -}}
{{- if not (regexMatch "^[a-z0-9][a-z0-9_-]{0,62}$" (toString .id)) -}}
{{- fail (printf "gateway.tenants: id %q must match [a-z0-9][a-z0-9_-]{0,62}" (toString .id)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* secretKeyRef env entries for every role; call with the root context. */}}
{{- define "lintas.secretEnv" -}}
{{- $secret := .Values.secrets.existingSecret -}}
{{- if .Values.secrets.kafkaSaslPasswordKey }}
- name: LINTAS__KAFKA__SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .Values.secrets.kafkaSaslPasswordKey }}
{{- end }}
{{- if .Values.secrets.clickhousePasswordKey }}
- name: LINTAS__CLICKHOUSE__PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .Values.secrets.clickhousePasswordKey }}
{{- end }}
{{- range $name, $key := .Values.secrets.extraEnv }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $key }}
{{- end }}
{{- if .Values.clickhouse.tls.caSecret }}
- name: SSL_CERT_FILE
  value: /etc/lintas/clickhouse-ca/{{ .Values.clickhouse.tls.caKey }}
{{- end }}
{{- end -}}

{{/* The gateway's tenants as LINTAS__TENANTS__<ID>__... secretKeyRef env entries. */}}
{{- define "lintas.tenantEnv" -}}
{{- $secret := .Values.secrets.existingSecret -}}
{{- range .Values.gateway.tenants }}
{{- $prefix := printf "LINTAS__TENANTS__%s" (upper (toString .id)) }}
{{- if .writeKeysKey }}
- name: {{ $prefix }}__WRITE_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .writeKeysKey }}
{{- end }}
{{- range $source, $names := .webhooks }}
{{- range $name, $key := $names }}
- name: {{ printf "%s__WEBHOOKS__%s__%s" $prefix (upper $source) (upper $name) }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $key }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Volumes every Lintas pod mounts: the config and the optional CA certificates; call with
(dict "root" $ "configMap" NAME). */}}
{{- define "lintas.volumes" -}}
{{- $values := .root.Values -}}
- name: config
  configMap:
    name: {{ .configMap }}
{{- if $values.kafka.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ $values.kafka.tls.caSecret }}
    items:
      - key: {{ $values.kafka.tls.caKey }}
        path: {{ $values.kafka.tls.caKey }}
{{- end }}
{{- if $values.clickhouse.tls.caSecret }}
- name: clickhouse-ca
  secret:
    secretName: {{ $values.clickhouse.tls.caSecret }}
    items:
      - key: {{ $values.clickhouse.tls.caKey }}
        path: {{ $values.clickhouse.tls.caKey }}
{{- end }}
{{- end -}}

{{- define "lintas.volumeMounts" -}}
- name: config
  mountPath: /etc/lintas/config
  readOnly: true
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: /etc/lintas/kafka-ca
  readOnly: true
{{- end }}
{{- if .Values.clickhouse.tls.caSecret }}
- name: clickhouse-ca
  mountPath: /etc/lintas/clickhouse-ca
  readOnly: true
{{- end }}
{{- end -}}

{{/* Anti-affinity preset of a role; call with (dict "root" $ "role" "gateway" "values" $values). */}}
{{- define "lintas.affinity" -}}
{{- if .values.affinity -}}
{{ toYaml .values.affinity }}
{{- else if eq .values.podAntiAffinity "hard" -}}
podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    - topologyKey: {{ .values.podAntiAffinityTopologyKey }}
      labelSelector:
        matchLabels:
          {{- include "lintas.roleSelectorLabels" . | nindent 10 }}
{{- else if eq .values.podAntiAffinity "soft" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: {{ .values.podAntiAffinityTopologyKey }}
        labelSelector:
          matchLabels:
            {{- include "lintas.roleSelectorLabels" . | nindent 12 }}
{{- end -}}
{{- end -}}

{{/* lintas.toml: values.config with the chart-managed keys on top. */}}
{{- define "lintas.configToml" -}}
{{- $config := deepCopy (.Values.config | default dict) -}}
{{- $kafka := dict "brokers" .Values.kafka.brokers "security_protocol" .Values.kafka.securityProtocol -}}
{{- if hasPrefix "sasl_" .Values.kafka.securityProtocol -}}
{{- $_ := set $kafka "sasl_mechanism" .Values.kafka.sasl.mechanism -}}
{{- $_ := set $kafka "sasl_username" .Values.kafka.sasl.username -}}
{{- end -}}
{{- if .Values.kafka.tls.caSecret -}}
{{- $_ := set $kafka "ssl_ca_location" (printf "/etc/lintas/kafka-ca/%s" .Values.kafka.tls.caKey) -}}
{{- end -}}
{{- $ch := .Values.clickhouse -}}
{{- $clickhouse := dict "url" $ch.url "database" $ch.database "user" $ch.user "request_timeout" $ch.requestTimeout "cluster" $ch.cluster "dedup_window_blocks" $ch.dedupWindowBlocks -}}
{{- $cl := .Values.classifier -}}
{{- /* instance_id is not here: each classifier pod sets it from its name (StatefulSet env). */ -}}
{{- $classifier := dict "group_id" $cl.groupId "transaction_timeout" $cl.transactionTimeout "batch_max_records" $cl.batchMaxRecords "batch_max_wait" $cl.batchMaxWait -}}
{{- $si := .Values.sink -}}
{{- $sink := dict "group_id" $si.groupId "batch_max_rows" $si.batchMaxRows "batch_max_bytes" $si.batchMaxBytes "batch_max_wait" $si.batchMaxWait "retry_initial_backoff" $si.retryInitialBackoff "retry_max_backoff" $si.retryMaxBackoff "ttl_days" $si.ttlDays -}}
{{- /* Listen addresses are set per role in the Deployments' env, so the roles' ports can differ. */ -}}
{{- $telemetry := dict "log_format" "json" -}}
{{- $managed := dict "kafka" $kafka "clickhouse" $clickhouse "classifier" $classifier "sink" $sink "telemetry" $telemetry -}}
{{- $merged := mustMergeOverwrite $config $managed -}}
{{- include "lintas.intify" $merged -}}
# Rendered by the Lintas Helm chart from its values; edit the values, not this file.
# Reference of every key: crates/lintas-config/src/default.toml in the Lintas sources.
{{ toToml $merged }}
{{- end -}}
