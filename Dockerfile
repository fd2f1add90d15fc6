# syntax=docker/dockerfile:1
# The Lintas image: one `lintas` binary, every role a subcommand (`gateway`, `classifier`,
# `sink`, `migrate`, `topics apply`, ...). Build from the repository root:
#   docker build -t lintas/lintas:0.1.0 --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) .
# Checked offline by scripts/test.sh (step "deploy"): RUST_VERSION equals rust-toolchain.toml,
# the build command equals the one below, and hadolint passes.

# Same toolchain as rust-toolchain.toml (the deploy step fails when they differ).
ARG RUST_VERSION=1.95.0
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
# librdkafka is compiled from source by rdkafka-sys (make, a C/C++ compiler); zlib and OpenSSL
# (Kafka TLS and SCRAM) are linked from the system, hence zlib1g and libssl3 in the runtime image.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential pkg-config python3 zlib1g-dev \
       libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# .dockerignore admits only what the build reads: manifests, toolchain file, sources, proto/, sql/.
COPY . .
# The release build CI uses: the lock file is authoritative (--locked), only the binary's package.
# Cache mounts keep the registry and target dir between builds; the binary is copied out of them.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p lintas \
    && install -D -m 0755 target/release/lintas /out/lintas

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="lintas" \
      org.opencontainers.image.description="Lintas: customer interactions from every channel, classified, exactly once in ClickHouse" \
      org.opencontainers.image.source="https://github.com/lintas-dev/lintas" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
# ca-certificates: https to ClickHouse and `lintas send`, TLS to Kafka with public CAs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 zlib1g \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 lintas \
    && useradd --system --uid 10001 --gid lintas --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin lintas
COPY --from=build /out/lintas /usr/local/bin/lintas
# Numeric, so Kubernetes' runAsNonRoot can verify it without resolving the name.
USER 10001:10001
# The gateway's port and the admin port (/metrics, /healthz, /readyz) of the other roles; set
# gateway.listen / telemetry.admin_listen to 0.0.0.0:<port> (the Helm chart does).
EXPOSE 8080 9464
ENV LINTAS__TELEMETRY__LOG_FORMAT=json
ENTRYPOINT ["/usr/local/bin/lintas"]
CMD ["--help"]
