{{- define "checksums.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "checksums.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}

{{- define "checksums.partOf" }}
app.kubernetes.io/part-of: {{ .Chart.Name }}
app.kubernetes.io/component: web
{{- end }}

{{- define "checksums.image" }}
  {{ .Values.image }}
{{ end }}
