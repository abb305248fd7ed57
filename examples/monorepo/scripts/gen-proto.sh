#!/bin/sh
# Stand-in for protoc: copy every .proto into gen/ with a stamp.
set -eu
mkdir -p gen
for f in proto/*.proto; do
    [ -e "$f" ] || continue
    cp "$f" "gen/$(basename "$f").txt"
done
date >gen/stamp
