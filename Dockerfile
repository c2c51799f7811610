# Static, non-root image of the admission webhook.
#   docker build -t ghcr.io/klint-dev/admission-webhook:v0.1.0 .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/admission-webhook ./cmd/admission-webhook

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/admission-webhook /admission-webhook
USER 65532:65532
EXPOSE 8443 9090
ENTRYPOINT ["/admission-webhook"]
