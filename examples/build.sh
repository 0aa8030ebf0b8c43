#!/usr/bin/env bash
# Build the example guests examples/hello-{arm,aarch64,mips,mipsel}: static,
# stripped, from hello.c, with Debian's cross compilers
# (gcc-arm-linux-gnueabihf gcc-aarch64-linux-gnu gcc-mips-linux-gnu gcc-mipsel-linux-gnu).
set -euo pipefail
cd "$(dirname "$0")"

build() {
    local arch=$1 cc=$2
    if ! command -v "$cc" >/dev/null; then
        echo "build.sh: $cc not found (apt-get install gcc-${cc%-gcc})" >&2
        exit 1
    fi
    "$cc" -static -O2 -s -o "hello-$arch" hello.c
    echo "built examples/hello-$arch"
}

build arm arm-linux-gnueabihf-gcc
build aarch64 aarch64-linux-gnu-gcc
build mips mips-linux-gnu-gcc
build mipsel mipsel-linux-gnu-gcc
