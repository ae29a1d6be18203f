# replay in a container: `docker build -t replay .`, then, writing the results into the current folder as you:
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD:/work" -w /work replay run /opt/replay/profiles/steady.json --host https://staging --duration 1m
# Stage 1 builds the release binary from the locked dependencies, with profile-guided
# optimisation (deploy/build-release.sh: rustup's llvm-tools merge the training's counts);
# stage 2 is a small Debian with that binary, the example profiles and a non-root user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN rustup component add llvm-tools \
 && deploy/build-release.sh \
 && strip target/release/replay

FROM debian:bookworm-slim AS runtime
# ca-certificates for tools beside replay (replay itself trusts the Mozilla roots it was built with).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --user-group --create-home replay
COPY --from=build /src/target/release/replay /usr/local/bin/replay
COPY profiles /opt/replay/profiles
USER 10001:10001
WORKDIR /home/replay
ENTRYPOINT ["replay"]
CMD ["--help"]
