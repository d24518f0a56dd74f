#!/usr/bin/env bash
# Install the Debian package dataset-fashion-mnist (the full dataset, offline) when we can.
# Never fails the build: artlib works without it (see artlib/data.py for the search order).
set -u
if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: not root or no apt: skipping dataset-fashion-mnist (artlib falls back to the shipped subset)"
  exit 0
fi
echo "installing the Debian package dataset-fashion-mnist (full Fashion-MNIST, about 30 MB)"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 \
       || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1; }; }; then
  echo "note: could not install dataset-fashion-mnist: artlib falls back to the shipped subset"
fi
exit 0
