# Static, non-root images of klint (the CLI) and of the admission webhook
# (the default target):
#   docker build --target klint --build-arg VERSION=$(git describe --tags --always) -t klint .
#   docker run --rm -v "$PWD:/repo" -w /repo klint .          # lint the current repository
#   docker run --rm -u "$(id -u)" -v "$PWD:/repo" -w /repo klint fix .
#   docker build -t klint-admission-webhook:dev .      # the image deploy/webhook names
FROM golang:1.26 AS modules
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .

FROM modules AS build-klint
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/klint ./cmd/klint

FROM modules AS build-webhook
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/admission-webhook ./cmd/admission-webhook

# klint reads the repository mounted at its working directory; it runs no
# program and opens no socket, so the image needs nothing but the binary.
FROM gcr.io/distroless/static-debian12:nonroot AS klint
COPY --from=build-klint /out/klint /klint
USER 65532:65532
ENTRYPOINT ["/klint"]

FROM gcr.io/distroless/static-debian12:nonroot AS admission-webhook
COPY --from=build-webhook /out/admission-webhook /admission-webhook
USER 65532:65532
EXPOSE 8443 9090
ENTRYPOINT ["/admission-webhook"]
