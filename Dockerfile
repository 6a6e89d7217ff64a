# hikyaku: a static binary on distroless. Build:  docker build -t hikyaku .
# Run:  docker run -p 8585:8585 -p 127.0.0.1:8586:8586 -v $PWD/hikyaku.yml:/etc/hikyaku/hikyaku.yml:ro -v hikyaku-data:/var/lib/hikyaku hikyaku

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so editing code does not re-download them.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
# timetzdata embeds the zone database: rotations are defined in local time
# and must not depend on the image having /usr/share/zoneinfo.
RUN CGO_ENABLED=0 go build -trimpath -tags timetzdata \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/hikyaku ./cmd/hikyaku \
 && mkdir -p /out/data

# static-debian12 has ca-certificates (Twilio, Slack, SMTP over TLS) and
# tzdata, and no shell; :nonroot runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hikyaku /usr/local/bin/hikyaku
# The volume's mount point must exist owned by the runtime user, or the
# embedded store cannot create its file in a fresh named volume.
COPY --from=build --chown=65532:65532 /out/data /var/lib/hikyaku
USER 65532:65532
VOLUME ["/var/lib/hikyaku"]
# 8585: the public listener; 8586: the admin listener (/metrics, /-/reload),
# bound to all of the container's interfaces here: publish it only to a
# private network (docs/operations.md, "Listeners").
EXPOSE 8585 8586
ENTRYPOINT ["/usr/local/bin/hikyaku"]
CMD ["serve", "--config.file", "/etc/hikyaku/hikyaku.yml", "--storage.path", "/var/lib/hikyaku", "--web.admin-listen-address", ":8586"]
