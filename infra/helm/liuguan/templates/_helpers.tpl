{{/* Names and labels. */}}
{{- define "liuguan.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "liuguan.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "liuguan.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "liuguan.selectorLabels" -}}
app.kubernetes.io/name: {{ include "liuguan.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "liuguan.labels" -}}
helm.sh/chart: {{ include "liuguan.chart" . }}
{{ include "liuguan.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: liuguan
{{- end }}

{{- define "liuguan.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
Non-secret settings, with exactly the names the application reads (backend/config.py). Rendered into the
ConfigMap for the Deployments and inline into the migrate hook (hooks run before the ConfigMap exists on a
first install).
*/}}
{{- define "liuguan.config" -}}
{{- if not (has .Values.environment (list "development" "test" "production")) }}
{{- fail "environment must be one of development, test, production" }}
{{- end }}
{{- if not (has .Values.storage.driver (list "local" "s3")) }}
{{- fail "storage.driver must be local or s3" }}
{{- end }}
ENVIRONMENT: {{ .Values.environment | quote }}
TEMPORAL_ADDRESS: {{ required "temporal.address (host:port of the Temporal frontend) is required" .Values.temporal.address | quote }}
TEMPORAL_NAMESPACE: {{ .Values.temporal.namespace | quote }}
TEMPORAL_TASK_QUEUE: {{ .Values.temporal.taskQueue | quote }}
STORAGE_DRIVER: {{ .Values.storage.driver | quote }}
{{- if eq .Values.storage.driver "s3" }}
S3_ENDPOINT: {{ required "storage.endpoint (host:port of the object store) is required when storage.driver is s3" .Values.storage.endpoint | quote }}
S3_BUCKET: {{ .Values.storage.bucket | quote }}
S3_REGION: {{ .Values.storage.region | quote }}
S3_SECURE: {{ ternary "true" "false" .Values.storage.secure | quote }}
{{- end }}
LOG_LEVEL: {{ .Values.log.level | quote }}
LOG_JSON: {{ ternary "true" "false" .Values.log.json | quote }}
PUBLIC_BASE_URL: {{ required "publicBaseUrl (the https address people reach the api at) is required" .Values.publicBaseUrl | quote }}
DOCUMENT_TEMPLATES_DIR: "/srv/liuguan/templates"
WORKER_METRICS_PORT: {{ .Values.metrics.workerPort | quote }}
WORKER_SDK_METRICS_PORT: {{ .Values.metrics.sdkPort | quote }}
{{- with .Values.temporal.tls }}
TEMPORAL_TLS: {{ ternary "true" "false" .enabled | quote }}
{{- if .serverName }}
TEMPORAL_TLS_SERVER_NAME: {{ .serverName | quote }}
{{- end }}
{{- if and .secretName .privateCA }}
TEMPORAL_TLS_CA_FILE: "/etc/liuguan/temporal-tls/ca.crt"
{{- end }}
{{- if and .secretName .clientCertificate }}
TEMPORAL_TLS_CERT_FILE: "/etc/liuguan/temporal-tls/tls.crt"
TEMPORAL_TLS_KEY_FILE: "/etc/liuguan/temporal-tls/tls.key"
{{- end }}
{{- end }}
{{- end }}

{{/* The host of publicBaseUrl: the Ingress rule's host. */}}
{{- define "liuguan.publicHost" -}}
{{- (urlParse (required "publicBaseUrl is required" .Values.publicBaseUrl)).hostname }}
{{- end }}

{{/* The claim holding the counties' document templates and seals. */}}
{{- define "liuguan.templatesClaim" -}}
{{- default (printf "%s-document-templates" (include "liuguan.fullname" .)) .Values.documentTemplates.existingClaim }}
{{- end }}

{{/*
Secret settings, each read from the existing Secret by key. The two database URLs are assembled from the
addresses in values and the passwords in the Secret; Kubernetes expands $(VAR) from variables defined
earlier in the same list.
*/}}
{{- define "liuguan.secretEnv" -}}
{{- $secret := required "existingSecret (name of a Secret you created, see docs/operations.md) is required" .Values.existingSecret }}
{{- $db := .Values.database }}
{{- $host := required "database.host is required" $db.host }}
{{- $query := ternary (printf "?%s" $db.query) "" (ne $db.query "") }}
{{- $keys := list "DATABASE_APP_PASSWORD" "DATABASE_OWNER_PASSWORD" "SECRET_KEY" "PLATFORM_ADMIN_TOKEN" "DATA_ENCRYPTION_KEY" }}
{{- if eq .Values.storage.driver "s3" }}
{{- $keys = concat $keys (list "S3_ACCESS_KEY" "S3_SECRET_KEY") }}
{{- end }}
{{- if .Values.temporal.apiKey }}
{{- $keys = append $keys "TEMPORAL_API_KEY" }}
{{- end }}
{{- range $key := $keys }}
- name: {{ $key }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $key }}
{{- end }}
- name: METRICS_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: METRICS_TOKEN
      optional: true
- name: DATABASE_URL
  value: {{ printf "postgresql+asyncpg://%s:$(DATABASE_APP_PASSWORD)@%s:%v/%s%s" $db.appUser $host $db.port $db.name $query | quote }}
- name: DATABASE_OWNER_URL
  value: {{ printf "postgresql+asyncpg://%s:$(DATABASE_OWNER_PASSWORD)@%s:%v/%s%s" $db.ownerUser $host $db.port $db.name $query | quote }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Writable scratch volumes for a read-only root filesystem. */}}
{{- define "liuguan.scratchVolumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.scratch.tmpSizeLimit }}
- name: var
  emptyDir:
    sizeLimit: {{ .Values.scratch.varSizeLimit }}
{{- end }}

{{- define "liuguan.scratchMounts" -}}
- name: tmp
  mountPath: /tmp
- name: var
  mountPath: /app/var
{{- end }}

{{/* The api's and the worker's volumes: scratch, the document templates' claim, Temporal's TLS files. */}}
{{- define "liuguan.appVolumes" -}}
{{ include "liuguan.scratchVolumes" . }}
- name: document-templates
  persistentVolumeClaim:
    claimName: {{ include "liuguan.templatesClaim" . }}
{{- include "liuguan.temporalTlsVolume" . }}
{{- end }}

{{/* Temporal's TLS files (every process that connects, and the migrate Job, whose settings name them). */}}
{{- define "liuguan.temporalTlsVolume" -}}
{{- if .Values.temporal.tls.secretName }}
- name: temporal-tls
  secret:
    secretName: {{ .Values.temporal.tls.secretName }}
{{- end }}
{{- end }}

{{- define "liuguan.temporalTlsMount" -}}
{{- if .Values.temporal.tls.secretName }}
- name: temporal-tls
  mountPath: /etc/liuguan/temporal-tls
  readOnly: true
{{- end }}
{{- end }}

{{/* Mounts for the volumes above; the templates are read-only unless readWrite is passed (the api). */}}
{{- define "liuguan.appMounts" -}}
{{ include "liuguan.scratchMounts" .root }}
- name: document-templates
  mountPath: /srv/liuguan/templates
  readOnly: {{ not .readWrite }}
{{- include "liuguan.temporalTlsMount" .root }}
{{- end }}

{{/* Pod-level settings shared by every workload. */}}
{{- define "liuguan.podSpecCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/* Egress of the api and the worker: DNS, PostgreSQL, Temporal, the object store; nothing else. */}}
{{- define "liuguan.egressRules" -}}
{{- $egress := .Values.networkPolicy.egress }}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
  {{- with $egress.dns.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- range $name := list "postgres" "temporal" "objectStore" }}
{{- $rule := get $egress $name }}
- ports:
    - port: {{ $rule.port }}
      protocol: TCP
  {{- with $rule.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}
