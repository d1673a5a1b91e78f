"""examples/kubernetes/ and examples/container/: the manifests validated against Kubernetes'
schemas, every command line in them checked against the tools' own --help and every
variable they use against what defines it, the Indexed Job's own command line run here as
each of its 8 pods would run it, and the container image's package list checked against
the libraries the tools load."""
import functools
import os
import re
import shlex
import subprocess
import tomllib
import urllib.parse
from pathlib import Path

import pytest
import yaml

from arcservers import postgres_bin
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


def kubernetes_validate(*paths):
    """kubernetes-validate --strict over `paths`, run as a module: its console script names
    the interpreter of the virtualenv it was installed in, and a venv moved or linked from
    elsewhere no longer has that path."""
    assert (VENV_BIN / "kubernetes-validate").exists(), "kubernetes-validate is not installed: run scripts/setup.sh"
    return subprocess.run([str(VENV_BIN / "python"), "-m", "kubernetes_validate", "--strict",
                           "-k", KUBERNETES_VERSION, *map(str, paths)], capture_output=True, text=True, timeout=120)


# --- The manifests ------------------------------------------------------------------------

def test_there_are_manifests_for_the_jobs_the_queue_postgres_and_their_secrets():
    assert [p.name for p in MANIFESTS] == ["daily-cronjob.yaml", "postgres-credentials.yaml", "postgres.yaml",
                                           "queue-workers.yaml", "s3-credentials.yaml", "shards-job.yaml",
                                           "workflows-configmap.yaml"]


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_every_manifest_validates_strictly(path):
    r = kubernetes_validate(path)
    assert r.returncode == 0, r.stdout + r.stderr
    # One "passed" line per resource in the file: none skipped as unknown.
    assert r.stdout.count(" passed for resource ") == len(documents(path)), r.stdout


def test_strict_validation_rejects_a_misspelt_field(tmp_path):
    """The check above can fail: a field Kubernetes does not know is an error."""
    bad = tmp_path / "bad.yaml"
    bad.write_text((KUBERNETES / "shards-job.yaml").read_text().replace("completionMode:", "completionMood:"))
    r = kubernetes_validate(bad)
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


# --- Every pod: its command lines and the variables they use -------------------------------

# The arc image's containers run arc tools only; their flags are checked against each
# tool's --help. The work queue's flags are being built on main while these manifests are
# written against its fixed command line: until a tool's --help lists them, they are
# allowed from here (arc-queue does not exist yet at all). Nothing else is.
ARC_IMAGE = "localhost/arc:latest"
QUEUE_FLAGS = {
    ("arc-plan", None): {"--queue"},
    ("arc-collect", None): {"--queue", "--follow", "--lease", "--batch", "--max-attempts", "--worker"},
    ("arc-queue", "stats"): set(),
    ("arc-queue", "metrics"): {"--listen"},
}
QUEUE_TOOLS = {"arc-queue": {"stats", "metrics"}}
# What a script may run besides the tools: the shell's own set and export.
SHELL_BUILTINS = {"set", "export"}
SHELLS = {"/bin/bash", "bash", "/bin/sh", "sh"}
# Variables every container has without the manifest naming them.
ALWAYS_SET = {"PATH", "HOME", "HOSTNAME"}
# The downward API's pod fields (fieldRef.fieldPath); labels and annotations by key too.
POD_FIELDS = {"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
              "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"}


def all_documents():
    return [(path, doc) for path in MANIFESTS for doc in documents(path)]


def pod_templates(doc):
    """The pod template inside a workload, however deep its kind keeps it."""
    spec = doc.get("spec", {})
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return [spec["template"]] if "template" in spec else []


def pod_specs(doc):
    return [template["spec"] for template in pod_templates(doc)]


def containers():
    """(file, workload, pod spec, container) for every container in examples/kubernetes."""
    return [(path, doc, pod, c) for path, doc in all_documents() for pod in pod_specs(doc)
            for c in pod.get("initContainers", []) + pod["containers"]]


def named(kind):
    return {doc["metadata"]["name"]: doc for _, doc in all_documents() if doc["kind"] == kind}


def keys_of(doc):
    return set(doc.get("data", {})) | set(doc.get("stringData", {}))


def tool_names():
    return {p.parent.name for p in (ROOT / "Sources").glob("*/main.swift")} | set(QUEUE_TOOLS)


@functools.lru_cache(maxsize=None)
def help_sections(tool, command):
    """The sections of `tool [command] --help` ({header: [lines]}); {} for a tool not built
    yet (one of QUEUE_TOOLS)."""
    if not (BIN / tool).exists():
        assert tool in QUEUE_TOOLS, f"{BIN / tool} is missing: build the tools first"
        return {}
    r = subprocess.run([str(BIN / tool), *([command] if command else []), "--help"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, f"{tool} {command or ''} --help: {r.stderr}"
    sections, header = {}, None
    for line in r.stdout.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            header = line[:-1]
            sections[header] = []
        elif header and line.strip():
            sections[header].append(line)
    return sections


def subcommands(tool):
    found = {m.group(1) for line in help_sections(tool, None).get("Commands", [])
             if (m := re.match(r"  ([a-z][\w-]*)\s", line))}
    return found | QUEUE_TOOLS.get(tool, set())


def tool_flags(tool, command):
    """Every flag `tool [command]` takes: its --help's options, global ones included, and
    the queue's from QUEUE_FLAGS while the tool built here does not have the queue yet.
    Once it does (its --help lists --queue, or arc-queue exists), --help alone decides, so
    a queue flag named differently from the list above fails here."""
    flags = set()
    for header, lines in help_sections(tool, command).items():
        if header.endswith(("Options", "options")):
            for line in lines:
                m = re.match(r"\s+(?:(-\w), )?(--[\w-]+)", line)
                if m:
                    flags |= {f for f in m.groups() if f}
    queue_built = (BIN / tool).exists() and (tool in QUEUE_TOOLS or "--queue" in flags)
    return flags if queue_built else flags | QUEUE_FLAGS.get((tool, command), set())


def expand(text, env):
    """$NAME and ${NAME} replaced by the pod's plain values, as its shell would (and an
    unquoted one then splits into words, like FILTERS); the others left as they are."""
    return re.sub(r"\$(\{)?([A-Za-z_]\w*)(?(1)\})", lambda m: env.get(m.group(2), m.group(0)), text)


def simple_commands(script, env):
    """The script's simple commands as word lists: lines continued with a backslash joined,
    then split at | || && ; with comments dropped."""
    commands = []
    for line in re.sub(r"\\\n", " ", script).splitlines():
        lexer = shlex.shlex(expand(line, env), posix=True, punctuation_chars="|&;")
        lexer.whitespace_split = True
        words = []
        for word in list(lexer) + [";"]:
            if word.strip("|&;") == "":
                if words:
                    commands.append(words)
                words = []
            else:
                words.append(word)
    return commands


def command_lines(container):
    """What the container runs, as word lists: its command and args, or each simple
    command of a `bash -c` script."""
    argv = container.get("command", []) + container.get("args", [])
    if len(argv) >= 3 and argv[0] in SHELLS and argv[1] == "-c":
        return simple_commands(argv[2], container_env(container))
    return [argv]


def arc_containers():
    return [(path, doc, c) for path, doc, _, c in containers() if c["image"] == ARC_IMAGE]


def test_every_arc_container_runs_only_arc_tools_with_flags_they_have():
    seen = set()
    for path, doc, container in arc_containers():
        where = f"{path.name} {doc['metadata']['name']}/{container['name']}"
        lines = command_lines(container)
        assert lines and lines != [[]], f"{where}: no command (the image's CMD is only arc-plan --help)"
        for words in lines:
            if words[0] in SHELL_BUILTINS:
                continue
            tool = words[0]
            assert tool in tool_names(), f"{where}: {tool} is not an arc tool ({' '.join(words)})"
            command = words[1] if len(words) > 1 and words[1] in subcommands(tool) else None
            assert command or tool not in QUEUE_TOOLS, f"{where}: {tool} needs one of {sorted(QUEUE_TOOLS[tool])}"
            flags = tool_flags(tool, command)
            for word in words[1:]:
                if word.startswith("-") and word != "-":
                    flag = word.split("=", 1)[0]
                    assert flag in flags, f"{where}: {tool} {command or ''} has no {flag} ({' '.join(words)})"
            seen.add((tool, command))
    # The check saw the pipelines of every manifest, the queue's included.
    assert {("arc-discover", "binance"), ("arc-plan", None), ("arc-collect", None), ("wf-run", "run"),
            ("arc-queue", "metrics")} <= seen, seen


def test_the_command_check_can_fail():
    """A misspelt flag of a built tool, one of a queue tool, and a tool that is not arc's."""
    def container(script):
        return {"name": "x", "image": ARC_IMAGE, "command": ["/bin/bash", "-c", script],
                "env": [{"name": "F", "value": "--market spot --tpye klines"}]}
    [discover, plan] = command_lines(container("arc-discover binance $F \\\n  | arc-plan --dest /d --queue q"))
    assert "--tpye" in discover and "--tpye" not in tool_flags("arc-discover", "binance")
    assert "--queue" in plan and "--queue" in tool_flags("arc-plan", None)
    assert "--follow" not in tool_flags("arc-plan", None) and "--listen" not in tool_flags("arc-queue", "stats")
    assert "curl" not in tool_names() and "wf-run" in tool_names()


def defined_before(container, secrets, config_maps):
    """For each env entry, the variables defined before it: envFrom's keys and earlier
    entries (Kubernetes substitutes $(NAME) in a value only from those)."""
    names = set()
    for source in container.get("envFrom", []):
        if "secretRef" in source:
            names |= keys_of(secrets[source["secretRef"]["name"]])
        if "configMapRef" in source:
            names |= keys_of(config_maps[source["configMapRef"]["name"]])
    before = []
    for entry in container.get("env", []):
        before.append(set(names))
        names.add(entry["name"])
    return before, names


def dependent_refs(text):
    """The $(NAME) references Kubernetes expands ($$(NAME) is an escaped literal)."""
    return re.findall(r"(?<!\$)\$\(([A-Za-z_]\w*)\)", text)


def shell_scripts(container):
    """Every `sh -c` script the container runs: its command, and its probes' and hooks'."""
    handlers = [container.get(p, {}) for p in ("readinessProbe", "livenessProbe", "startupProbe")]
    handlers += [container.get("lifecycle", {}).get(h, {}) for h in ("postStart", "preStop")]
    argvs = [container.get("command", []) + container.get("args", [])]
    argvs += [h["exec"]["command"] for h in handlers if "exec" in h]
    return [argv[2] for argv in argvs if len(argv) >= 3 and argv[0] in SHELLS and argv[1] == "-c"]


def test_every_variable_a_pod_uses_is_defined_in_these_files():
    secrets, config_maps = named("Secret"), named("ConfigMap")
    claims = named("PersistentVolumeClaim")
    checked = 0
    for path, doc, pod, container in containers():
        where = f"{path.name} {doc['metadata']['name']}/{container['name']}"
        # Secrets and ConfigMaps named by envFrom, by a variable and by a volume exist,
        # with the key asked for; a field is one the downward API has.
        for source in container.get("envFrom", []):
            ref = source.get("secretRef") or source.get("configMapRef")
            assert ref["name"] in (secrets if "secretRef" in source else config_maps), f"{where}: {ref}"
        for entry in container.get("env", []):
            value_from = entry.get("valueFrom", {})
            if "secretKeyRef" in value_from or "configMapKeyRef" in value_from:
                ref = value_from.get("secretKeyRef") or value_from.get("configMapKeyRef")
                pool = secrets if "secretKeyRef" in value_from else config_maps
                assert ref["name"] in pool and ref["key"] in keys_of(pool[ref["name"]]), f"{where}: {entry}"
            if "fieldRef" in value_from:
                field = value_from["fieldRef"]["fieldPath"]
                assert field in POD_FIELDS or re.fullmatch(r"metadata\.(labels|annotations)\['[^']+'\]", field), where
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets, f"{where}: {volume}"
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps, f"{where}: {volume}"
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims, f"{where}: {volume}"

        # $(NAME) in a value names a variable defined earlier; in the command, any of them.
        # Kubernetes leaves an unknown one as it is, text in a URL or a flag.
        before, names = defined_before(container, secrets, config_maps)
        for entry, earlier in zip(container.get("env", []), before):
            for ref in dependent_refs(entry.get("value", "")):
                assert ref in earlier, f"{where}: {entry['name']} uses $({ref}), not defined before it"
                checked += 1
        for word in container.get("command", []) + container.get("args", []):
            for ref in dependent_refs(word):
                assert ref in names, f"{where}: $({ref}) in the command is not defined"
                checked += 1
        # A shell's $NAME is the pod's, one its script sets, or one Kubernetes gives every
        # pod of an Indexed Job.
        given = names | ALWAYS_SET
        if doc["kind"] == "Job" and doc["spec"].get("completionMode") == "Indexed":
            given |= {"JOB_COMPLETION_INDEX"}
        for script in shell_scripts(container):
            assigned = set(re.findall(r"(?m)^\s*(?:export\s+)?([A-Za-z_]\w*)=", script))
            for ref in re.findall(r"\$\{?([A-Za-z_]\w*)", script):
                assert ref in given | assigned, f"{where}: the script uses ${ref}, which nothing defines"
                checked += 1
    assert checked >= 10


# --- PostgreSQL and the work queue -----------------------------------------------------------

def postgres_parts():
    statefulset = resource(KUBERNETES / "postgres.yaml", "StatefulSet")
    service = resource(KUBERNETES / "postgres.yaml", "Service")
    [container] = statefulset["spec"]["template"]["spec"]["containers"]
    return statefulset, service, container


def env_entry(container, name):
    [entry] = [e for e in container["env"] if e["name"] == name]
    return entry


def queue_pods():
    """(name, container) of every pod in queue-workers.yaml."""
    path = KUBERNETES / "queue-workers.yaml"
    return [(doc["metadata"]["name"], c)
            for doc in documents(path) for pod in pod_specs(doc) for c in pod["containers"]]


def test_the_postgres_secret_holds_a_marked_placeholder_a_url_can_carry():
    secret = resource(KUBERNETES / "postgres-credentials.yaml", "Secret")
    assert secret["metadata"]["name"] == "arc-postgres"
    password = secret["stringData"]["password"]
    assert "REPLACE-ME" in password
    # Kubernetes pastes it into ARC_STATE's URL unencoded: only characters a URL's
    # userinfo takes as they are.
    assert re.fullmatch(r"[A-Za-z0-9._~-]+", password)
    assert "openssl rand -hex" in (KUBERNETES / "postgres-credentials.yaml").read_text()


def test_postgres_is_one_replica_with_a_claim_a_probe_and_the_secrets_password():
    statefulset, service, container = postgres_parts()
    spec = statefulset["spec"]
    assert spec["replicas"] == 1 and spec["serviceName"] == service["metadata"]["name"]
    assert service["spec"]["clusterIP"] == "None"
    assert container["image"].startswith("docker.io/library/postgres:")
    assert re.fullmatch(r"\d+", container["image"].rsplit(":", 1)[1]), "pin the major version: initdb's format"
    [claim] = spec["volumeClaimTemplates"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    # PGDATA is a directory inside the claim (not its root, which holds lost+found).
    pgdata = env_entry(container, "PGDATA")["value"]
    assert pgdata.startswith(mounts[claim["metadata"]["name"]] + "/")
    assert spec["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Retain"
    assert env_entry(container, "POSTGRES_PASSWORD")["valueFrom"]["secretKeyRef"] == \
        {"name": "arc-postgres", "key": "password"}
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["fsGroupChangePolicy"] == "OnRootMismatch"
    assert container["resources"]["requests"]["memory"] and container["resources"]["limits"]["memory"]

    # Ready only when the server answers on TCP, as the user and database the tools use.
    probe = container["readinessProbe"]["exec"]["command"]
    assert probe[0] == "pg_isready"
    options = dict(w.split("=", 1) for w in probe[1:])
    assert options == {"--host": "127.0.0.1", "--port": str(service["spec"]["ports"][0]["port"]),
                       "--username": env_entry(container, "POSTGRES_USER")["value"],
                       "--dbname": env_entry(container, "POSTGRES_DB")["value"]}
    # Kubernetes' SIGTERM is PostgreSQL's smart shutdown, which waits for the workers to
    # disconnect: a preStop hook makes it fast, within the grace period.
    hook = " ".join(container["lifecycle"]["preStop"]["exec"]["command"])
    assert "pg_ctl stop" in hook and "--mode=fast" in hook
    timeout = int(re.search(r"--timeout=(\d+)", hook).group(1))
    assert timeout < pod["terminationGracePeriodSeconds"]


def test_the_postgres_commands_use_flags_and_settings_postgres_has():
    """Against the PostgreSQL installed here for the tests (Debian's, the image's major
    version or another: these flags and settings are old)."""
    _, _, container = postgres_parts()
    bin = postgres_bin()

    def options(program):
        out = subprocess.run([str(bin / program), "--help"], capture_output=True, text=True, check=True).stdout
        return {f for pair in re.findall(r"^\s+(?:(-\S), )?(--[\w-]+)", out, re.M) for f in pair if f}

    probe = container["readinessProbe"]["exec"]["command"]
    hook = shlex.split(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert hook[:2] == ["pg_ctl", "stop"]
    for program, words in [("pg_isready", probe[1:]), ("pg_ctl", hook[2:])]:
        known = options(program)
        for word in words:
            assert word.split("=", 1)[0] in known, f"{program} has no {word}"
    settings = {line.split("\t", 1)[0] for line in subprocess.run(
        [str(bin / "postgres"), "--describe-config"], capture_output=True, text=True, check=True).stdout.splitlines()}
    args = container["args"]
    assert args[0::2] == ["-c"] * (len(args) // 2)
    for setting in args[1::2]:
        assert setting.split("=", 1)[0] in settings, setting


def test_every_queue_pod_reaches_the_postgres_server_with_the_secrets_password():
    statefulset, service, server = postgres_parts()
    urls = set()
    for name, container in queue_pods():
        env = {e["name"]: e for e in container["env"]}
        assert env["PGPASSWORD"]["valueFrom"] == env_entry(server, "POSTGRES_PASSWORD")["valueFrom"], name
        url = urllib.parse.urlsplit(env["ARC_STATE"]["value"])
        assert url.scheme == "postgres" and url.password == "$(PGPASSWORD)", name
        assert url.username == env_entry(server, "POSTGRES_USER")["value"], name
        assert url.path == "/" + env_entry(server, "POSTGRES_DB")["value"], name
        assert url.hostname == service["metadata"]["name"], name
        assert url.port == service["spec"]["ports"][0]["port"] == server["ports"][0]["containerPort"], name
        urls.add(env["ARC_STATE"]["value"])
    assert len(urls) == 1 and len(queue_pods()) == 3


def queue_argv(name):
    [container] = [c for n, c in queue_pods() if n == name]
    return container, command_lines(container)


def flag_value(words, flag):
    return words[words.index(flag) + 1]


def commented_resources(path):
    """The resources written out in the file's comments (`#   apiVersion: ...` blocks)."""
    blocks, block = [], None
    for line in path.read_text().splitlines():
        if line.startswith("#   apiVersion:"):
            block = []
            blocks.append(block)
        if block is not None and (line.startswith("#   ") or line == "#"):
            block.append(line[4:])
        else:
            block = None
    return [yaml.safe_load("\n".join(b)) for b in blocks]


def test_the_enqueue_job_and_the_workers_share_one_queue():
    path = KUBERNETES / "queue-workers.yaml"
    enqueue_container, enqueue = queue_argv("arc-enqueue")
    [discover, plan] = [words for words in enqueue if words[0] not in SHELL_BUILTINS]
    assert discover[:2] == ["arc-discover", "binance"]
    assert plan[0] == "arc-plan" and flag_value(plan, "--dest").startswith("s3://")
    queue = flag_value(plan, "--queue")
    script = enqueue_container["command"][-1]
    assert "pipefail" in script
    assert subprocess.run(["bash", "-n", "-c", script]).returncode == 0

    worker, [collect] = queue_argv("arc-queue-workers")
    assert collect[0] == "arc-collect" and flag_value(collect, "--queue") == queue and "--follow" in collect
    assert int(flag_value(collect, "-j")) >= 1
    # The workers write to the bucket; the enqueuer only plans against the ledger.
    assert {"secretRef": {"name": "arc-s3"}} in worker["envFrom"]
    pod = named("Deployment")["arc-queue-workers"]["spec"]["template"]["spec"]
    # SIGTERM is a clean stop that hands the tasks back: time for it, beyond the default 30 s.
    assert pod["terminationGracePeriodSeconds"] > 30
    assert worker["resources"]["requests"]["memory"] == "64Mi" and worker["resources"]["limits"]["memory"]
    for doc in documents(path):
        if doc["kind"] == "Deployment":
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items(), doc["metadata"]["name"]

    # The autoscalers in the comments scale that Deployment on that queue's backlog.
    [hpa, scaled] = commented_resources(path)
    assert hpa["kind"] == "HorizontalPodAutoscaler" and scaled["kind"] == "ScaledObject"
    assert hpa["spec"]["scaleTargetRef"]["name"] == scaled["spec"]["scaleTargetRef"]["name"] == "arc-queue-workers"
    [metric] = hpa["spec"]["metrics"]
    assert metric["external"]["metric"]["name"] == "arc_queue_tasks"
    assert metric["external"]["metric"]["selector"]["matchLabels"] == {"queue": queue, "state": "pending"}
    [trigger] = scaled["spec"]["triggers"]
    assert trigger["type"] == "prometheus"
    assert re.fullmatch(r'sum\(arc_queue_tasks\{queue="%s",state=~"pending\|leased"\}\)' % queue,
                        trigger["metadata"]["query"])


def test_the_commented_autoscaler_validates_strictly(tmp_path):
    [hpa, _] = commented_resources(KUBERNETES / "queue-workers.yaml")
    (tmp_path / "hpa.yaml").write_text(yaml.safe_dump(hpa))
    r = kubernetes_validate(tmp_path / "hpa.yaml")
    assert r.returncode == 0 and " passed for resource " in r.stdout, r.stdout + r.stderr


def test_the_metrics_exporter_is_one_pod_behind_an_annotated_service():
    path = KUBERNETES / "queue-workers.yaml"
    deployment = named("Deployment")["arc-queue-metrics"]
    service = resource(path, "Service")
    container, [metrics] = queue_argv("arc-queue-metrics")
    assert metrics[:2] == ["arc-queue", "metrics"]
    host, port = flag_value(metrics, "--listen").rsplit(":", 1)
    assert host == "0.0.0.0" and deployment["spec"]["replicas"] == 1
    [container_port] = container["ports"]
    assert container_port["containerPort"] == int(port)
    [service_port] = service["spec"]["ports"]
    assert service_port["targetPort"] == container_port["name"] and service_port["port"] == int(port)
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    annotations = service["metadata"]["annotations"]
    assert annotations == {"prometheus.io/scrape": "true", "prometheus.io/port": port, "prometheus.io/path": "/metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/metrics", "port": container_port["name"]}


def test_every_service_selects_a_pod_with_its_target_port():
    templates = [template for _, doc in all_documents() for template in pod_templates(doc)]
    for name, service in named("Service").items():
        [pod] = [t for t in templates if service["spec"]["selector"].items() <= t["metadata"]["labels"].items()]
        ports = {p.get("name") for c in pod["spec"]["containers"] for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports, f"{name}: {port}"


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


def opened_libraries():
    """The libraries the tools open with dlopen when first used (libcurl, libpq, libcrypto:
    the dlopen calls of Sources/C*/shim.h), as loaded_libraries shows a tool's: each one's
    path, with what the loader maps for it, and its own soname as what it NEEDs."""
    sonames = {m for shim in (ROOT / "Sources").glob("C*/shim.h")
               for m in re.findall(r'dlopen\("([^"]+)"', shim.read_text())}
    assert {"libcurl.so.4", "libpq.so.5"} <= sonames, sonames
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    opened = {}
    for soname in sorted(sonames):
        m = re.search(rf"^\s*{re.escape(soname)} \(libc6,x86-64[^)]*\) => (/\S+)$", cache, re.M)
        assert m, f"{soname}, which a tool opens, is not installed"
        libs, _ = loaded_libraries(m.group(1))
        opened[Path(m.group(1))] = ({soname: m.group(1), **libs}, {soname})
    return opened


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
    tools = {binary: loaded_libraries(binary) for binary in built_tools()} | opened_libraries()
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
