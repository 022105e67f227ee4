# syntax=docker/dockerfile:1
# oomhero's image: one self-contained binary on distroless (glibc and libgcc, no shell, no package
# manager). Needs BuildKit (the default builder since Docker 23).
#
#   docker build -t ghcr.io/oomhero/oomhero:0.1.0 .
#   docker buildx build --platform linux/amd64,linux/arm64 -t ghcr.io/oomhero/oomhero:0.1.0 .
#
# The compiled binary embeds the runtime of the Deno that compiles it, so this must equal
# .deno-version (tests/unit/project/docs_test.ts checks): `deno run` of Deno 2.9.2+ opens a V8
# inspector when it receives SIGUSR1, which a sidecar sharing the pod's network namespace must never
# do; the runtime deno compile embeds (denort) of this version has no such listener (README,
# Security).
ARG DENO_VERSION=2.9.5
# oomhero's own version, as in deno.json (tests/unit/project/docs_test.ts checks).
ARG VERSION=0.1.0

# The build runs on the builder's own architecture and cross-compiles: deno compile fetches the
# target's runtime, which is faster and surer than building under emulation.
FROM --platform=$BUILDPLATFORM denoland/deno:debian-${DENO_VERSION} AS build
ARG TARGETARCH
WORKDIR /build
# Dependencies first, so that a source change reuses this layer; --frozen fails on a stale lock.
COPY deno.json deno.lock .deno-version ./
RUN deno install --frozen
COPY scripts/ scripts/
COPY src/ src/
# scripts/compile bakes in scripts/runtime-flags, the same flags `deno task start` runs with.
RUN case "$TARGETARCH" in \
      amd64) triple=x86_64-unknown-linux-gnu ;; \
      arm64) triple=aarch64-unknown-linux-gnu ;; \
      *) echo "oomhero builds for linux/amd64 and linux/arm64, not ${TARGETARCH:-an unset TARGETARCH}" >&2; exit 1 ;; \
    esac \
  && mkdir -p /out \
  && ./scripts/compile --target "$triple" --output /out/oomhero

# cc: glibc and libgcc_s, all that Deno links against (tests/kernel/distroless_test.ts runs oomhero
# in a root holding no more than that).
FROM gcr.io/distroless/cc-debian12
ARG VERSION
LABEL org.opencontainers.image.title="oomhero" \
      org.opencontainers.image.description="Sidecar that sends processes a warning and a critical signal before the OOM killer strikes" \
      org.opencontainers.image.source="https://github.com/oomhero/oomhero" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/oomhero /oomhero
# The production environment, one ENV per line of scripts/runtime-env
# (tests/unit/project/docs_test.ts checks):
# glibc's malloc tuned for a small, long-running process (BENCHMARKS.md, issue 13).
ENV MALLOC_ARENA_MAX=1
# Root, on purpose: reading another container's /proc/<pid>/root needs CAP_SYS_PTRACE and
# signalling another user's process needs CAP_KILL, and Kubernetes makes added capabilities
# effective for root only. Manifests drop every other capability, mount the root filesystem
# read-only and forbid privilege escalation (docs/deployment.md).
USER 0
# /metrics, /healthz and /readyz.
EXPOSE 9000
ENTRYPOINT ["/oomhero"]
