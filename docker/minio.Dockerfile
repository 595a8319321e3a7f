# MinIO server + mc client for docker-compose.yml, built from source at the
# versions scripts/test.sh pins (MINIO_VERSION, MC_VERSION), so the stack a
# developer runs is the MinIO the tests ran against. MinIO's community images
# (minio/minio, minio/mc) stopped being updated in 2025; building keeps the
# version in this repository's hands.
#
# To update: change MINIO_VERSION / MC_VERSION in scripts/test.sh and the same
# two ARG defaults below (the e2e test TestLocalMinIOStack checks they agree),
# and the golang tag when the toolchain moves (go.mod's go line). MinIO and mc
# are AGPLv3 and run as separate processes; imgate never links them.
FROM golang:1.26.8-bookworm AS build
ARG MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
ARG MC_VERSION=v0.0.0-20250313080218-cf909e1063a9
ENV CGO_ENABLED=0 GOFLAGS=-mod=mod GOBIN=/out
RUN go install -trimpath "github.com/minio/minio@${MINIO_VERSION}" \
 && go install -trimpath "github.com/minio/mc@${MC_VERSION}"

# Debian slim, not distroless: the minio-setup service runs its mc commands
# through /bin/sh.
FROM debian:12.12-slim
COPY --from=build /out/minio /usr/local/bin/minio
COPY --from=build /out/mc /usr/local/bin/mc
VOLUME ["/data"]
EXPOSE 9000 9001
ENTRYPOINT ["/usr/local/bin/minio"]
