# syntax=docker/dockerfile:1
# The beluga-secrets image: the CLI and the in-cluster agent (`beluga-secrets agent`).
#
#   docker build -t beluga-secrets:0.1.0 .
#
# Build stage: the official Swift image, pinned to the toolchain the project is tested with.
FROM swift:6.3.1-bookworm AS build

# The C libraries the Sealing, KubeAPI and YAML targets link against (pkg-config finds them).
# Versions follow the pinned Debian release (bookworm) and its security updates.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcurl4-openssl-dev libsodium-dev libyaml-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src

# Dependencies first, so that a source change does not fetch them again.
COPY Package.swift ./
RUN swift package resolve

COPY Sources ./Sources
COPY Tests ./Tests
# A static Swift standard library: the runtime stage needs no Swift toolchain.
RUN swift build -c release --static-swift-stdlib --product beluga-secrets \
 && install -D -m 0755 "$(swift build -c release --show-bin-path)/beluga-secrets" /out/usr/local/bin/beluga-secrets \
 && strip /out/usr/local/bin/beluga-secrets

# Runtime stage: only the shared libraries the binary needs (beyond glibc: libcurl, libsodium,
# libyaml, and the C++ runtime the static Swift runtime itself calls into), and CA certificates for
# TLS.
FROM debian:bookworm-slim

ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="beluga-secrets" \
      org.opencontainers.image.description="Sealed API keys, rotation and rolling restarts for the Beluga AI server on Kubernetes" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"

# Same pinning as above: the Debian release, with its security updates.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcurl4 libsodium23 libyaml-0-2 libstdc++6 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 beluga \
 && useradd --system --uid 65532 --gid 65532 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin beluga

COPY --from=build /out/ /

# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
# /healthz, /readyz and /metrics of `beluga-secrets agent`. Kubernetes probes them (see the
# chart); the image adds no Docker health check, which would need an HTTP client in the image.
EXPOSE 8081
HEALTHCHECK NONE
ENTRYPOINT ["beluga-secrets"]
CMD ["agent"]
