# syntax=docker/dockerfile:1
# Production image of opsdesk: one binary (templates, static files and migrations are compiled
# into it) on Debian slim, run as a non-root user.
#   docker build -t opsdesk .
#   docker run -p 8080:8080 -v opsdesk-data:/var/lib/opsdesk opsdesk
# The stack with PostgreSQL, OpenLDAP, FreeRADIUS and an SMTP catcher: docker-compose.yml.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The cache mounts keep downloaded crates and the target dir between builds (a cold release
# build takes ~9 min on 2 cores); the binary is copied out of the cached dir in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && install -m 0755 target/release/opsdesk /usr/local/bin/opsdesk

FROM debian:bookworm-slim
# ca-certificates: rustls verifies LDAPS/IMAPS/SMTPS peers against the system roots.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --user-group --uid 10001 --home-dir /var/lib/opsdesk \
        --shell /usr/sbin/nologin opsdesk \
    && install -d -o opsdesk -g opsdesk -m 0750 /var/lib/opsdesk
COPY --from=build /usr/local/bin/opsdesk /usr/local/bin/opsdesk

USER opsdesk
WORKDIR /var/lib/opsdesk
VOLUME ["/var/lib/opsdesk"]
ENV OPSDESK_LISTEN=0.0.0.0:8080 \
    OPSDESK_DATABASE_URL=sqlite:///var/lib/opsdesk/opsdesk.db
EXPOSE 8080

# bash's /dev/tcp needs nothing beyond the slim image; the port follows OPSDESK_LISTEN.
# GET /healthz answers 200 while the process lives (CONTRACT.md §3).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>\"/dev/tcp/127.0.0.1/${OPSDESK_LISTEN##*:}\" && printf 'GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && IFS= read -r -t 5 status <&3 && [[ $status == 'HTTP/1.'?' 200'* ]]"]

ENTRYPOINT ["opsdesk"]
CMD ["serve"]
