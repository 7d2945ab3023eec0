# syntax=docker/dockerfile:1
# PortalKit's container image: a static binary on a distroless base, run as
# a non-root user with a read-only root file system (docs/scaling.md).
#
#   docker build -t portalkit/portal .
#   docker run --read-only --tmpfs /tmp -p 8080:8080 \
#     -e PORTAL_DATABASE_URL=postgres://... -e PORTAL_SECRET_KEY=... portalkit/portal
#
# The build flags are the ones the cluster test (make test-cluster) builds the
# binary it runs with, so what CI tests is what this image ships.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/portalkit/portalkit/core/app.Version=${VERSION}" -o /out/portal ./cmd/portal \
 && mkdir -p /out/var/lib/portal

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/portal /usr/local/bin/portal
COPY --from=build --chown=65532:65532 /out/var/lib/portal /var/lib/portal
COPY configs/production.yaml /etc/portal/production.yaml
# Every key of the configuration can be set as PORTAL_<KEY> (docs/operations.md);
# PORTAL_DATABASE_URL and PORTAL_SECRET_KEY are required in production mode.
ENV PORTAL_DATA_DIR=/var/lib/portal \
    PORTAL_HTTP_ADDR=0.0.0.0:8080
USER 65532:65532
VOLUME ["/var/lib/portal"]
EXPOSE 8080 1883
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/portal", "health"]
ENTRYPOINT ["/usr/local/bin/portal"]
CMD ["serve", "--config", "/etc/portal/production.yaml"]
