{{/*
The six targets the one binary serves, each a Deployment of its own.
*/}}
{{- define "cloudflix.targets" -}}
router upload host search encode account
{{- end }}

{{/* The gRPC services: every target but the router. */}}
{{- define "cloudflix.grpcTargets" -}}
upload host search encode account
{{- end }}

{{- define "cloudflix.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's full name. Object names append "-<target>", so it is cut to
leave room for the longest suffix within the 63 characters of a DNS label.
*/}}
{{- define "cloudflix.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 55 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 55 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 55 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "cloudflix.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object; call with (dict "ctx" $ "component" "router"). */}}
{{- define "cloudflix.labels" -}}
helm.sh/chart: {{ include "cloudflix.chart" .ctx }}
{{ include "cloudflix.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: cloudflix
{{- end }}

{{/* Labels that select one component's pods (all components without one). */}}
{{- define "cloudflix.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cloudflix.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end }}

{{- define "cloudflix.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cloudflix.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image of a target; call with (dict "ctx" $ "target" "encode"). */}}
{{- define "cloudflix.image" -}}
{{- $img := .ctx.Values.image }}
{{- $repo := $img.repository }}
{{- $tag := default .ctx.Chart.AppVersion $img.tag }}
{{- $digest := $img.digest }}
{{- if eq .target "encode" }}
{{- $e := .ctx.Values.encode.image }}
{{- $repo = $e.repository }}
{{- $tag = default $tag $e.tag }}
{{- $digest = $e.digest }}
{{- end }}
{{- if $digest }}
{{- printf "%s@%s" $repo $digest }}
{{- else }}
{{- printf "%s:%s" $repo $tag }}
{{- end }}
{{- end }}

{{/*
The Secret that holds the internal key and the backend credentials: the
operator's, or the one this chart makes.
*/}}
{{- define "cloudflix.secretName" -}}
{{- default (printf "%s-backends" (include "cloudflix.fullname" .)) .Values.secrets.existingSecret }}
{{- end }}

{{/* The secret variables given in values, in a fixed order. */}}
{{- define "cloudflix.secretVariables" -}}
CLOUDFLIX_POSTGRES_URL CLOUDFLIX_REDIS_PASSWORD CLOUDFLIX_AMQP_URL CLOUDFLIX_S3_SECRET_KEY CLOUDFLIX_STORAGE_SIGNING_KEY CLOUDFLIX_OIDC_CLIENT_SECRET
{{- end }}

{{/* Secret variables a Secret may leave out: the binary runs without them. */}}
{{- define "cloudflix.optionalSecrets" -}}
CLOUDFLIX_STORAGE_SIGNING_KEY CLOUDFLIX_OIDC_CLIENT_SECRET
{{- end }}

{{/*
The secrets each target reads: the internal key, which every process of
the install shares, and the credentials of the backends the target opens
(the router only object storage, host and search the database and cache,
upload and encode all of them, the account service the database and the
OpenID provider, the migration the database), so that a pod holds only the
credentials its code uses.
*/}}
{{- define "cloudflix.secretsOf" -}}
{{- $of := dict
  "router" "CLOUDFLIX_INTERNAL_KEY CLOUDFLIX_S3_SECRET_KEY CLOUDFLIX_STORAGE_SIGNING_KEY"
  "upload" "CLOUDFLIX_INTERNAL_KEY CLOUDFLIX_POSTGRES_URL CLOUDFLIX_REDIS_PASSWORD CLOUDFLIX_AMQP_URL CLOUDFLIX_S3_SECRET_KEY CLOUDFLIX_STORAGE_SIGNING_KEY"
  "host" "CLOUDFLIX_INTERNAL_KEY CLOUDFLIX_POSTGRES_URL CLOUDFLIX_REDIS_PASSWORD"
  "search" "CLOUDFLIX_INTERNAL_KEY CLOUDFLIX_POSTGRES_URL CLOUDFLIX_REDIS_PASSWORD"
  "encode" "CLOUDFLIX_INTERNAL_KEY CLOUDFLIX_POSTGRES_URL CLOUDFLIX_REDIS_PASSWORD CLOUDFLIX_AMQP_URL CLOUDFLIX_S3_SECRET_KEY CLOUDFLIX_STORAGE_SIGNING_KEY"
  "account" "CLOUDFLIX_INTERNAL_KEY CLOUDFLIX_POSTGRES_URL CLOUDFLIX_OIDC_CLIENT_SECRET"
  "migrate" "CLOUDFLIX_POSTGRES_URL" }}
{{- get $of . }}
{{- end }}

{{/* env entries that read secret variables; call with (dict "ctx" $ "target" "upload"). */}}
{{- define "cloudflix.secretEnv" -}}
{{- $ctx := .ctx }}
{{- range $key := splitList " " (include "cloudflix.secretsOf" .target) }}
- name: {{ $key }}
  valueFrom:
    secretKeyRef:
      name: {{ include "cloudflix.secretName" $ctx }}
      key: {{ $key }}
      {{- if has $key (splitList " " (include "cloudflix.optionalSecrets" $ctx)) }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}

{{/*
The non-secret settings every container gets, as YAML: the external
backends (the targets run in separate pods, so nothing may live inside one
process), derived listen addresses, gRPC targets and work dir, overridden
by .Values.config; empty values are left out so the binary's defaults
apply. Numbers are written as integers (YAML values arrive as floats).
*/}}
{{- define "cloudflix.settings" -}}
{{- $fullname := include "cloudflix.fullname" . }}
{{- $s := dict
  "CLOUDFLIX_METADATA" "postgres"
  "CLOUDFLIX_STORAGE" "s3"
  "CLOUDFLIX_CACHE" "redis"
  "CLOUDFLIX_QUEUE" "rabbitmq"
  "CLOUDFLIX_HTTP_ADDR" ":8080"
  "CLOUDFLIX_ADMIN_ADDR" ":9100"
  "CLOUDFLIX_UPLOAD_GRPC_ADDR" ":9090"
  "CLOUDFLIX_HOST_GRPC_ADDR" ":9090"
  "CLOUDFLIX_SEARCH_GRPC_ADDR" ":9090"
  "CLOUDFLIX_ENCODE_GRPC_ADDR" ":9090"
  "CLOUDFLIX_ACCOUNT_GRPC_ADDR" ":9090"
  "CLOUDFLIX_ENCODE_WORKDIR" "/var/lib/cloudflix/encode" }}
{{- range $k, $v := .Values.config }}
{{- if kindIs "float64" $v }}
{{- $v = int64 $v }}
{{- end }}
{{- if ne (toString $v) "" }}
{{- $_ := set $s $k (toString $v) }}
{{- end }}
{{- end }}
{{- range $t := splitList " " (include "cloudflix.grpcTargets" .) }}
{{- $key := printf "CLOUDFLIX_%s_TARGET" (upper $t) }}
{{- if not (hasKey $s $key) }}
{{- $port := include "cloudflix.portOf" (get $s (printf "CLOUDFLIX_%s_GRPC_ADDR" (upper $t))) }}
{{- $_ := set $s $key (printf "dns:///%s-%s.%s.svc.%s:%s" $fullname $t $.Release.Namespace $.Values.clusterDomain $port) }}
{{- end }}
{{- end }}
{{- toYaml $s }}
{{- end }}

{{/* The port number of a listen address such as ":9090" or "0.0.0.0:9090". */}}
{{- define "cloudflix.portOf" -}}
{{- regexReplaceAll "^.*:" . "" }}
{{- end }}

{{/* The gRPC listen port of a target; call with (dict "ctx" $ "target" "host"). */}}
{{- define "cloudflix.grpcPort" -}}
{{- $s := include "cloudflix.settings" .ctx | fromYaml }}
{{- include "cloudflix.portOf" (get $s (printf "CLOUDFLIX_%s_GRPC_ADDR" (upper .target))) }}
{{- end }}

{{/* Whether something other than the Deployment sets a target's replicas. */}}
{{- define "cloudflix.autoscaled" -}}
{{- $v := index .ctx.Values .target }}
{{- if eq .target "encode" }}
{{- if $v.keda.enabled }}true{{ end }}
{{- else if and (hasKey $v "autoscaling") $v.autoscaling.enabled }}true
{{- end }}
{{- end }}

{{/* The restricted pod-level security context. */}}
{{- define "cloudflix.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext }}
{{- end }}

{{/* The restricted container-level security context. */}}
{{- define "cloudflix.securityContext" -}}
{{- toYaml .Values.securityContext }}
{{- end }}
