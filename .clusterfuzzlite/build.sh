#!/bin/bash -eu
# ClusterFuzzLite build: the same as OSS-Fuzz's (fuzz/oss-fuzz/build.sh).
exec "$SRC/qloop/fuzz/oss-fuzz/build.sh"
