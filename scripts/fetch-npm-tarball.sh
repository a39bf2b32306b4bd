#!/bin/sh
# Downloads one package tarball from the npm registry and checks it against its integrity (sha512, as
# `npm view PKG@VER dist.integrity` prints it); a mismatching file is removed. Used by the Dockerfile.
# Usage: fetch-npm-tarball.sh PACKAGE VERSION INTEGRITY OUTPUT
set -eu
pkg=$1 version=$2 integrity=$3 out=$4
registry=${NPM_CONFIG_REGISTRY:-https://registry.npmjs.org}
curl -fsSL --retry 3 -o "$out" "${registry%/}/$pkg/-/${pkg##*/}-$version.tgz"
want=$(printf '%s' "${integrity#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
if ! echo "$want  $out" | sha512sum -c --status; then
  rm -f "$out"
  echo "fetch-npm-tarball: $pkg@$version does not match its integrity $integrity" >&2
  exit 1
fi
