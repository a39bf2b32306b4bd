#!/bin/sh
# Entry point of the container image: kpatch-build finds target kernels in apt's indexes, which go stale
# in an image; they are refreshed when older than a day (quietly; a failure leaves the old ones).
set -eu
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
  apt-get update -qq >/dev/null 2>&1 || echo "kpatch-build: apt-get update failed; using the image's package lists" >&2
fi
exec kpatch-build "$@"
