"""Every tool's command line: --help, --version, and docs generated from the same spec."""
import re
import shutil
import subprocess

import pytest

from conftest import BIN, ROOT, run, tool

TOOLS = sorted(p.parent.name for p in (ROOT / "Sources").glob("*/main.swift"))


@pytest.mark.parametrize("name", TOOLS)
def test_help_and_version(name):
    h = run(name, "--help")
    assert h.status == 0 and h.stdout.startswith(f"{name}: ") and "Usage:" in h.stdout
    assert "--state" in h.stdout and "--log-format" in h.stdout
    v = run(name, "--version")
    assert v.status == 0 and v.stdout.startswith(name + " ")


def test_committed_man_pages_and_completions_match_the_specs():
    """`make check-docs` with the tools under test: `make docs` regenerates these, so a spec
    change without it (or a file left for a tool that is gone) fails here, with the diff."""
    r = subprocess.run([str(ROOT / "scripts" / "gen-docs.sh"), "--check", str(BIN)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("name", TOOLS)
def test_every_option_in_help_is_in_the_man_page_and_completions(name):
    help_text = run(name, "--help").stdout
    if name == "arc-discover":
        help_text += run(name, "binance", "--help").stdout
    # The option tables: lines such as "  -j, --jobs N   ..." or "      --strict  ...".
    options = set(re.findall(r"^\s+(?:-\w, )?(--[a-z][\w-]*)", help_text, re.MULTILINE))
    assert "--help" in options and "--state" in options
    man = (ROOT / "man" / f"{name}.1").read_text().replace("\\-", "-")
    bash = (ROOT / "completions" / "bash" / name).read_text()
    fish = (ROOT / "completions" / "fish" / f"{name}.fish").read_text()
    for option in options:
        assert option in man, option
        assert option in bash, option
        assert f"-l {option[2:]}" in fish, option


def test_bash_completion_completes_options_and_values():
    script = ROOT / "completions" / "bash" / "arc-discover"
    def complete(*words):
        line = " ".join(words)
        cmd = (f"source {script}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; "
               "_arc_discover; printf '%s\\n' \"${COMPREPLY[@]}\"")
        return subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, check=True).stdout.split()
    assert complete("arc-discover", "bi") == ["binance"]
    assert "--market" in complete("arc-discover", "binance", "--mar")
    assert complete("arc-discover", "binance", "--market", "c") == ["cm"]


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff not installed")
@pytest.mark.parametrize("name", TOOLS)
def test_man_page_renders_cleanly(name):
    r = subprocess.run(["groff", "-man", "-Tutf8", "-P-bou", str(ROOT / "man" / f"{name}.1")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert "EXIT STATUS" in r.stdout


@pytest.mark.parametrize("name", TOOLS)
def test_usage_errors_exit_2_with_one_line(name):
    r = run(name, "--no-such-option", input="")
    assert r.status == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1

