{{- define "lib.probe" -}}
httpGet:
  port: {{ .port }}
  path: /healthz
{{- end }}
