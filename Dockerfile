# directoryd as a container: a static binary on a distroless base, run as a
# non-root user, with nothing to write on its root filesystem (it logs to
# stderr and keeps its state in memory or Redis), so it runs with
# readOnlyRootFilesystem. It never starts the dev emulator: without
# --upstream-url (or DIRECTORYD_UPSTREAM_URL) it refuses to start.
#
#   docker build -t directoryd .
#   docker run --rm -e DIRECTORYD_UPSTREAM_URL=https://api.procore.com directoryd
#
# deploy/kubernetes/ has manifests that run it.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/directoryd ./cmd/directoryd

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/directoryd /directoryd
# 65532 is distroless's "nonroot".
USER 65532:65532
EXPOSE 9090 8080 8086
ENTRYPOINT ["/directoryd"]
