# Build imgate into a small image. Used by docker-compose.yml.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -tags nodynamic -trimpath -ldflags "-s -w" -o /out/imgate ./cmd/imgate && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/imgate /usr/local/bin/imgate
# The data volume must be writable by the nonroot user (uid 65532).
COPY --from=build --chown=65532:65532 /out/data /data
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/imgate"]
CMD ["serve", "--listen", "0.0.0.0:8080", "--data", "/data"]
