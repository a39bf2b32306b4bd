#!/usr/bin/env bash
# Installs what kpatch-build and its tests need on a fresh Debian machine: system packages (when missing)
# and node modules (when missing or out of date). Safe to run again: it does nothing when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# command-or-file -> Debian package
declare -A NEED=(
  [qemu-system-x86_64]=qemu-system-x86
  [/bin/busybox]=busybox-static
  [flex]=flex
  [bison]=bison
  [bc]=bc
  [/usr/include/libelf.h]=libelf-dev
  [/usr/include/openssl/ssl.h]=libssl-dev
  [cpio]=cpio
  [xz]=xz-utils
  [zstd]=zstd
  [ar]=binutils
  [gcc]=gcc
  [make]=make
  [pahole]=dwarves
  [rsync]=rsync
  [apt-get]=apt
  # distro adapters (src/distro: Ubuntu, Fedora, RHEL family) and their tests
  [patch]=patch
  [rpmbuild]=rpm
  [dpkg-source]=dpkg-dev
  [createrepo_c]=createrepo-c
  # create-diff-object tests on clang-built objects (LLVM=1 kernels)
  [clang]=clang
  # the Debian archive client (src/source/debian-archive.ts): InRelease checked with gpgv against the
  # archive keyring; its tests sign a loopback mirror with a key gpg makes
  [gpgv]=gpgv
  [/usr/share/keyrings/debian-archive-keyring.gpg]=debian-archive-keyring
  [gpg]=gnupg
  [gpgconf]=gpgconf
  # build roots with the target kernel's exact compiler (src/kbuild/build-root.ts) and the container
  # image's e2e (Dockerfile): base image from Debian packages, build, run
  [mmdebstrap]=mmdebstrap
  [buildah]=buildah
  [podman]=podman
  [/usr/sbin/runc]=runc
  # module signing: kbuild generates the signing test kernel's key with openssl
  [openssl]=openssl
  # affected-object compiles over distcc (src/kbuild/distcc.ts); its e2e runs two distccd on loopback
  [distcc]=distcc
)
missing=()
for probe in "${!NEED[@]}"; do
  if [[ $probe == /* ]]; then [[ -e $probe ]] || missing+=("${NEED[$probe]}")
  else command -v "$probe" >/dev/null 2>&1 || missing+=("${NEED[$probe]}"); fi
done
# busybox may exist as the dynamic build; we need the static one for the initramfs.
if [[ -e /bin/busybox ]] && ! file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; then
  dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
fi
SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
# Installing needs package lists; Debian targets themselves are read from the archive by the tool's own
# client (not apt), and test/e2e/debian-archive.test.ts compares its answers with this host's apt.
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null ||
  [[ -z $(find /var/lib/apt/lists -maxdepth 0 -mmin -1440 2>/dev/null) ]]; then
  echo "bootstrap: apt-get update (no package lists yet, or older than a day)"
  $SUDO apt-get update -qq
  updated=1
fi
if ((${#missing[@]})); then
  echo "bootstrap: installing system packages: ${missing[*]}"
  [[ -n ${updated:-} ]] || $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" file >/dev/null
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "bootstrap: installing node modules"
  npm ci --no-audit --no-fund --loglevel=error
fi
