"""examples/kubernetes/ and examples/container/: the manifests validated against Kubernetes'
schemas, the Indexed Job's own command line run here as each of its 8 pods would run it,
and the container image's package list checked against the libraries the tools load."""
import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import BIN, ROOT, VENV_BIN, expected_sha, records, run, sha256_file

EXAMPLES = ROOT / "examples"
KUBERNETES = EXAMPLES / "kubernetes"
CONTAINERFILE = EXAMPLES / "container" / "Containerfile"
# The oldest release the manifests are for: backoffLimitPerIndex and FailIndex are GA in it.
KUBERNETES_VERSION = "1.33.0"
MANIFESTS = sorted(KUBERNETES.glob("*.yaml"))


def documents(path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def resource(path, kind):
    [doc] = [d for d in documents(path) if d["kind"] == kind]
    return doc


def container_env(container):
    """The container's plain `value` variables (secrets and field refs are the cluster's)."""
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


# --- The manifests ------------------------------------------------------------------------

def test_there_are_manifests_for_the_job_the_cronjob_and_s3():
    assert [p.name for p in MANIFESTS] == ["daily-cronjob.yaml", "s3-credentials.yaml", "shards-job.yaml",
                                           "workflows-configmap.yaml"]


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_every_manifest_validates_strictly(path):
    validate = VENV_BIN / "kubernetes-validate"
    assert validate.exists(), "kubernetes-validate is not installed: run scripts/setup.sh"
    r = subprocess.run([str(validate), "--strict", "-k", KUBERNETES_VERSION, str(path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    # One "passed" line per resource in the file: none skipped as unknown.
    assert r.stdout.count(" passed for resource ") == len(documents(path)), r.stdout


def test_strict_validation_rejects_a_misspelt_field(tmp_path):
    """The check above can fail: a field Kubernetes does not know is an error."""
    bad = tmp_path / "bad.yaml"
    bad.write_text((KUBERNETES / "shards-job.yaml").read_text().replace("completionMode:", "completionMood:"))
    r = subprocess.run([str(VENV_BIN / "kubernetes-validate"), "--strict", "-k", KUBERNETES_VERSION, str(bad)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "completionMood" in r.stdout + r.stderr


def test_the_secret_holds_only_marked_placeholders():
    secret = resource(KUBERNETES / "s3-credentials.yaml", "Secret")
    data = secret["stringData"]
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"} <= set(data)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        assert "REPLACE-ME" in data[key], key


def shards_job():
    job = resource(KUBERNETES / "shards-job.yaml", "Job")
    [container] = job["spec"]["template"]["spec"]["containers"]
    return job, container


def test_the_indexed_job_shards_with_auto_and_its_count_equals_completions():
    job, container = shards_job()
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == 8 and 1 <= spec["parallelism"] <= spec["completions"]
    env = container_env(container)
    assert env["ARC_SHARD_COUNT"] == str(spec["completions"])
    assert env["DEST"].startswith("s3://")
    script = container["command"][-1]
    assert "--shard auto" in script
    assert re.search(r"arc-discover binance .*\|\s*arc-plan --dest \"\$DEST\" --shard auto\s*\\?\s*\|\s*arc-collect -j",
                     " ".join(script.split()))
    assert "pipefail" in script and container["command"][0].endswith("bash")
    # Retries per index, a pod that cannot succeed ends the job, and nothing runs as root.
    assert spec["backoffLimitPerIndex"] >= 1 and spec["ttlSecondsAfterFinished"] > 0
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    assert {"secretRef": {"name": "arc-s3"}} in container["envFrom"]
    assert spec["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    limit = container["resources"]["limits"]["memory"]
    assert limit.endswith("Mi") and int(limit[:-2]) >= 4 * 64


def test_the_cronjob_runs_the_workflow_on_its_own_schedule():
    cron = resource(KUBERNETES / "daily-cronjob.yaml", "CronJob")
    workflow = tomllib.loads((EXAMPLES / "binance-daily.toml").read_text())
    spec = cron["spec"]
    assert spec["schedule"] == workflow["schedule"] == "30 9 * * *"
    assert spec["timeZone"] == workflow["timezone"] == "UTC"
    assert spec["concurrencyPolicy"] == "Forbid"
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    command = container["command"]
    assert command[:3] == ["wf-run", "run", "/etc/arc/workflows/binance-daily.toml"]
    params = dict(p.split("=", 1) for flag, p in zip(command[3::2], command[4::2]) if flag == "-p")
    assert set(params) == {"dest", "lake", "silver"} and set(params) <= set(workflow["params"])
    assert params["lake"].startswith("s3://") and params["silver"].startswith("s3://")

    # The workflow file comes from the ConfigMap, mounted where the command reads it; the
    # state (ledger and wf-run's runs) and the bronze copy from the claim.
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert mounts["workflows"] == "/etc/arc/workflows"
    assert volumes["workflows"]["configMap"]["name"] == "arc-workflows"
    claim = volumes[next(n for n, p in mounts.items() if container_env(container)["ARC_STATE"].startswith(p + "/"))]
    assert claim["persistentVolumeClaim"]["claimName"] == \
        resource(KUBERNETES / "daily-cronjob.yaml", "PersistentVolumeClaim")["metadata"]["name"]
    assert params["dest"].startswith(mounts["data"] + "/")


def test_the_configmap_copy_is_the_workflow_byte_for_byte(tmp_path):
    configmap = resource(KUBERNETES / "workflows-configmap.yaml", "ConfigMap")
    assert configmap["metadata"]["name"] == "arc-workflows"
    copy = configmap["data"]["binance-daily.toml"]
    assert copy.encode() == (EXAMPLES / "binance-daily.toml").read_bytes(), \
        "examples/kubernetes/workflows-configmap.yaml is stale: regenerate it from examples/binance-daily.toml"
    # And wf-run accepts the copy as the pod will read it.
    (tmp_path / "binance-daily.toml").write_text(copy)
    v = run("wf-run", "validate", str(tmp_path / "binance-daily.toml"),
            env=dict(os.environ, ARC_STATE=str(tmp_path / "state.db")))
    assert v.status == 0, v


# --- The Indexed Job's command line, run as its 8 pods -------------------------------------

def test_the_indexed_jobs_pods_collect_every_archive_exactly_once(mirror, env, tmp_path):
    job, container = shards_job()
    command = container["command"]
    pod_env = container_env(container)
    n = int(pod_env["ARC_SHARD_COUNT"])
    assert n == job["spec"]["completions"] == 8
    dest = tmp_path / "data"
    base = dict(env, **dict(pod_env, DEST=str(dest)), PATH=f"{BIN}:{os.environ['PATH']}")
    base.pop("ARC_STATE")  # the pod's command sets it from STATE_DIR

    def pod(k):
        state = tmp_path / f"pod-{k}"  # each pod's own emptyDir
        state.mkdir(exist_ok=True)
        return subprocess.run(command, env=dict(base, JOB_COMPLETION_INDEX=str(k), STATE_DIR=str(state)),
                              capture_output=True, text=True, timeout=180)

    per_pod = []
    for k in range(n):
        r = pod(k)
        assert r.returncode == 0, r.stderr
        assert f'"shard":"{k}/{n}"' in r.stderr.replace(" ", "") or f"shard {k}/{n} kept" in r.stderr, r.stderr
        assert (tmp_path / f"pod-{k}" / f"shard-{k}-of-{n}.db").exists()
        per_pod.append(records(r.stdout))

    keys = [x["key"] for results in per_pod for x in results]
    assert len(keys) == len(set(keys)), "an archive collected by two pods"
    listing = run("arc-discover", "binance", *shlex.split(pod_env["FILTERS"]), env=env)
    plan = run("arc-plan", "--dest", str(tmp_path / "check"), input=listing.stdout,
               env=dict(env, ARC_STATE=str(tmp_path / "check.db")))
    assert listing.status == 0 and plan.status == 0, plan
    expected = sorted(t["key"] for t in plan.records)
    assert sorted(keys) == expected and len(expected) >= n, "an archive no pod collected"
    assert sum(1 for results in per_pod if results) > n // 2  # the work is spread, not on one pod
    for results in per_pod:
        for x in results:
            assert x["status"] == "ok" and sha256_file(x["dest"]) == expected_sha(mirror, x["key"])

    # A pod run again over its own ledger finds its shard held and fetches nothing.
    again = pod(3)
    assert again.returncode == 0 and again.stdout == "", again.stderr


def test_an_indexed_job_pod_without_its_count_is_a_usage_error(mirror, env, tmp_path):
    _, container = shards_job()
    e = dict(env, **dict(container_env(container), DEST=str(tmp_path / "data"), STATE_DIR=str(tmp_path)),
             JOB_COMPLETION_INDEX="0", PATH=f"{BIN}:{os.environ['PATH']}")
    del e["ARC_SHARD_COUNT"]
    r = subprocess.run(container["command"], env=e, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0  # set -u: the ledger's name needs the count before any tool runs
    e["ARC_SHARD_COUNT"] = ""
    r = subprocess.run(container["command"], env=e, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "ARC_SHARD_COUNT is not" in r.stderr, r.stderr  # exit 2: the Job fails


# --- The container image -----------------------------------------------------------------

# Packages the runtime stage installs that no tool links: what each is for.
DATA_PACKAGES = {
    "ca-certificates": "CA roots for libcurl's HTTPS to Binance and S3",
    "tzdata": "zoneinfo for wf-run's `timezone =`",
}
# In every Debian image: the C library (and the dynamic loader).
BASE_PACKAGES = {"libc6"}
# Libraries from the Swift toolchain, which --static-swift-stdlib links into each tool.
SWIFT_RUNTIME = re.compile(r"^lib(swift\w*|dispatch|BlocksRuntime|_?Foundation\w*)\.so")


def runtime_stage(text):
    """The lines of the last stage, continuations joined."""
    joined = re.sub(r"\\\n", " ", text)
    lines = [l.strip() for l in joined.splitlines() if l.strip() and not l.strip().startswith("#")]
    starts = [i for i, l in enumerate(lines) if l.startswith("FROM ")]
    return lines[starts[-1]:], lines[:starts[-1]]


def apt_installs(line):
    words = line.split("apt-get install", 1)[1].split("&&")[0].split()
    return {w for w in words if not w.startswith("-")}


def built_tools():
    """Every tool (a Sources/TOOL/main.swift), from ARC_BIN and from scripts/static.sh's
    build (--static-swift-stdlib, as the image builds them) when there is one."""
    names = sorted(p.parent.name for p in (ROOT / "Sources").glob("*/main.swift"))
    dirs = [BIN] + [d for d in [ROOT / ".build-static" / "release"] if d.is_dir()]
    found = [d / n for d in dirs for n in names if (d / n).exists()]
    assert all((BIN / n).exists() for n in names), f"build the tools first: {names} in {BIN}"
    return found


def loaded_libraries(binary):
    """(soname, resolved path) for every library ldd shows, and the sonames it NEEDs itself."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    libs = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) => (/\S+)", line) or re.match(r"\s*((/\S+))\s+\(", line)
        if m:
            libs[os.path.basename(m.group(1))] = m.group(2)
        else:
            assert "linux-vdso" in line or not line.strip(), f"{binary}: ldd could not resolve: {line}"
    dynamic = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True, check=True).stdout
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[(.+)\]", dynamic))
    return libs, needed


def owning_packages(paths):
    """Debian package of each path, in one dpkg call (usrmerge: ldd may say /lib where dpkg
    knows /usr/lib, so the real path and the path as given are both asked)."""
    asked = {p: dict.fromkeys([os.path.realpath(p), p]) for p in paths}
    r = subprocess.run(["dpkg", "-S", *{c for cs in asked.values() for c in cs}], capture_output=True, text=True)
    found = {}
    for line in r.stdout.splitlines():
        m = re.match(r"([^\s:,]+)(?::[\w-]+)?: (/.+)$", line)
        if m:
            found[m.group(2)] = m.group(1)
    return {p: next(found[c] for c in cs if c in found) for p, cs in asked.items() if any(c in found for c in cs)}


def dependency_closure(packages):
    """The packages apt installs for these (Depends and Pre-Depends, recursively)."""
    r = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
                        "--no-breaks", "--no-replaces", "--no-enhances", *sorted(packages)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return {l.strip() for l in r.stdout.splitlines() if l and not l[0].isspace() and not l.startswith("<")}


def test_the_containerfile_builds_static_tools_into_a_slim_non_root_runtime():
    runtime, build = runtime_stage(CONTAINERFILE.read_text())
    build_text = "\n".join(build)
    assert "swift build -c release --static-swift-stdlib" in build_text
    assert "debian:12-slim" in CONTAINERFILE.read_text()
    assert runtime[0] == "FROM ${RUNTIME_IMAGE}" and "ARG RUNTIME_IMAGE=docker.io/library/debian:12-slim" in build
    assert "COPY --from=build /out/ /usr/local/bin/" in runtime
    [user] = [l for l in runtime if l.startswith("USER ")]
    assert not user.split()[1].startswith(("root", "0"))


def test_the_runtime_packages_are_exactly_what_the_tools_load():
    os_release = Path("/etc/os-release").read_text()
    if 'VERSION_ID="12"' not in os_release or "ID=debian" not in os_release:
        pytest.skip("the tools were not built on Debian 12, the runtime image's release: its package names differ")
    runtime, _ = runtime_stage(CONTAINERFILE.read_text())
    [install] = [l for l in runtime if "apt-get install" in l]
    listed = apt_installs(install)
    assert "--no-install-recommends" in install

    direct, loaded, by_tool = set(), set(), {}
    tools = {binary: loaded_libraries(binary) for binary in built_tools()}
    owners = owning_packages({path for libs, _ in tools.values() for path in libs.values()})
    for binary, (libs, needed) in tools.items():
        for soname, path in libs.items():
            if path not in owners:
                assert SWIFT_RUNTIME.match(soname), f"{binary.name}: {soname} ({path}) is from no Debian package"
                continue
            loaded.add(owners[path])
            by_tool.setdefault(owners[path], binary.name)
            if soname in needed:
                direct.add(owners[path])
    assert {"libcurl4", "libsqlite3-0", "libssl3", "zlib1g", "libc6"} <= direct, direct

    # Every library a tool links itself comes from a package the Containerfile names...
    unnamed = direct - listed - BASE_PACKAGES
    assert not unnamed, f"add to the runtime stage's apt-get install: {sorted(unnamed)} " \
                        f"(loaded by {', '.join(by_tool[p] for p in sorted(unnamed))})"
    # ...every library those load comes with them...
    closure = dependency_closure(listed | BASE_PACKAGES)
    missing = loaded - closure
    assert not missing, f"libraries from packages apt would not install: {sorted(missing)}"
    # ...and nothing is installed that no tool loads, unless it says what it is for.
    unused = listed - loaded - set(DATA_PACKAGES)
    assert not unused, f"the runtime stage installs packages no tool loads: {sorted(unused)}"
