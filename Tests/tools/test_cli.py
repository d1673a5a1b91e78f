"""Every tool's command line: --help, --version, and docs generated from the same spec."""
import difflib
import functools
import os
import re
import shlex
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


# --- The options the READMEs name exist -------------------------------------------------

HELP_OPTION = re.compile(r"^\s+(?:-\w, )?(--[a-z][\w-]*)", re.MULTILINE)
OPTION = re.compile(r"(?<![\w-])--[a-z][\w-]*")
ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")
OPERATORS = {"|", "||", "&&", ";", "&", "(", ")"}
REDIRECTIONS = {"<", ">", ">>", "2>", "2>>"}
EVERY_TOOL = "every tool"


@functools.lru_cache(maxsize=None)
def help_text(name, command=None):
    r = run(name, *([command] if command else []), "--help")
    assert r.status == 0, r
    return r.stdout


@functools.lru_cache(maxsize=None)
def commands(name):
    """The commands (or built-in sources) a tool's --help lists under "Commands:"."""
    section = help_text(name).partition("\nCommands:\n")[2].partition("\n\n")[0]
    return tuple(re.findall(r"^  ([a-z][\w-]*)  ", section, re.MULTILINE))


@functools.lru_cache(maxsize=None)
def known_options(name, command=None):
    """The options `name command --help` lists (it lists the global ones too); with no
    command, those of the tool and of every one of its commands."""
    if command:
        return frozenset(HELP_OPTION.findall(help_text(name, command)))
    found = set(HELP_OPTION.findall(help_text(name)))
    for c in commands(name):
        found.update(HELP_OPTION.findall(help_text(name, c)))
    return frozenset(found)


def shell_words(text):
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split, lexer.commenters = True, ""
    try:
        return list(lexer)
    except ValueError:  # an unbalanced quote, as in a prose fragment: words as they stand
        return text.split()


def split_comment(line):
    """(code, comment) of a shell line: the comment starts at a # after a blank, outside quotes."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i], line[i:]
    return line, ""


def simple_commands(words):
    """The simple commands of a shell line, with those run by `sh -c '...'` and after a
    tool's `--` (telem-trace exec -- CMD): each as its list of words, variables and
    redirections left out."""
    current = []
    for word in [*words, ";"]:
        if word in OPERATORS:
            if current:
                yield from expand(current)
            current = []
        else:
            current.append(word)


def expand(words):
    while words and ENV_ASSIGNMENT.match(words[0]):
        words = words[1:]
    kept, skip = [], False
    for word in words:
        if skip or word in REDIRECTIONS:
            skip = word in REDIRECTIONS
            continue
        kept.append(word)
    if not kept:
        return
    if kept[0] in ("sh", "bash") and "-c" in kept[:-1]:
        yield from simple_commands(shell_words(kept[kept.index("-c") + 1]))
    elif kept[0] in TOOLS and "--" in kept:
        cut = kept.index("--")
        yield kept[:cut]
        yield from simple_commands(kept[cut + 1:])
    else:
        yield kept


def tool_command(words):
    """(tool, its command or None) for the words of a simple command run by one of the
    tools, else None."""
    name = words[0]
    if name not in TOOLS:
        return None
    return name, next((w for w in words[1:] if w in commands(name)), None)


def command_claims(words):
    """(option, owner) for each option in each simple command of `words`, and the owner of
    the first command (None when another program runs it)."""
    claims, owners = [], []
    for command in simple_commands(words):
        owner = tool_command(command)
        owners.append(owner)
        claims += [(w.split("=")[0], owner) for w in command[1:] if OPTION.fullmatch(w.split("=")[0])]
    return claims, owners[0] if owners else None


def is_program(word):
    return bool(re.fullmatch(r"[a-z][\w.+-]*", word)) and shutil.which(
        word, path=f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}") is not None


def markdown_blocks(text):
    """(kind, first line number, text) for each heading, indented code line (continuation
    lines joined) and prose paragraph or list item (its lines joined) of a Markdown file."""
    blocks, prose, after_blank, in_code = [], None, True, False
    lines = text.splitlines()
    n = 0
    while n < len(lines):
        line, number = lines[n], n + 1
        n += 1
        if not line.strip() or line.startswith("#"):
            prose, after_blank, in_code = None, True, False
            if line.strip():
                blocks.append(("heading", number, line))
        elif line.startswith("    ") and (after_blank or in_code):
            while line.endswith("\\") and n < len(lines):
                line, n = line[:-1] + " " + lines[n], n + 1
            blocks.append(("code", number, line))
            after_blank, in_code = False, True
        else:
            if prose is None or line.lstrip().startswith(("- ", "* ", "|")):
                prose = ["prose", number, line]
                blocks.append(prose)
            else:
                prose[2] += "\n" + line
            after_blank, in_code = False, False
    return [tuple(b) for b in blocks]


def readme_claims(path):
    """Every (line, option, owner) the file names, owner being (tool, its command or None),
    EVERY_TOOL, or None (another program's option: not checked).

    In a code block, a command run by one of the tools owns the options among its words,
    and a line's comment belongs to the line's first command; other programs (jq, s5cmd,
    curl, make, ...) own theirs. A code line that starts with an option (a table of
    options) belongs to the section. In prose, an inline code span that is a command
    works the same way; a span that starts with an option belongs to the last tool (or
    other program) named before it in the same paragraph or list item, else to the
    section's tool (a heading that starts with a tool's name), else to every tool."""
    names = re.compile(r"`([^`]+)`|(?<![\w-])(" + "|".join(map(re.escape, TOOLS)) + r")(?![\w-])")
    claims = []
    section = EVERY_TOOL
    for kind, number, text in markdown_blocks(path.read_text()):
        if kind == "heading":
            first = re.match(r"#+\s+([\w-]+)", text)
            section = (first.group(1), None) if first and first.group(1) in TOOLS else EVERY_TOOL
        elif kind == "code":
            code, comment = split_comment(text)
            words = shell_words(code)
            if words and OPTION.fullmatch(words[0]):
                claims += [(number, o, section) for o in OPTION.findall(code)]
                continue
            found, owner = command_claims(words)
            claims += [(number, o, w) for o, w in found] + [(number, o, owner) for o in OPTION.findall(comment)]
        else:
            context = section
            for m in names.finditer(text):
                at = number + text.count("\n", 0, m.start())
                if m.group(2):
                    context = (m.group(2), None)
                    continue
                words = shell_words(m.group(1).replace("\n", " "))
                while words and ENV_ASSIGNMENT.match(words[0]):
                    words = words[1:]
                if not words:
                    continue
                if OPTION.fullmatch(words[0].split("=")[0]):
                    claims += [(at, o, context) for o in OPTION.findall(m.group(1))]
                elif words[0] in TOOLS:
                    found, context = command_claims(words)
                    claims += [(at, o, w) for o, w in found]
                elif isinstance(context, tuple) and words[0] in commands(context[0]):
                    pass  # one of the tool's commands (`ls`, `exec`): still that tool's paragraph
                elif is_program(words[0]):
                    context = None  # another program: the options after it are its own
    return claims


@pytest.mark.parametrize("readme", ["README.md", "examples/README.md"])
def test_every_option_a_readme_names_is_in_that_tools_help(readme):
    """An option the README shows with one of the tools (in a command line, or in prose
    about that tool) is one its --help lists: a typo or a renamed option fails here."""
    claims = readme_claims(ROOT / readme)
    assert len([c for c in claims if c[2]]) > 20, "the parser found hardly any options"
    wrong = []
    for number, option, context in claims:
        if context is None:
            continue
        owners = [(t, None) for t in TOOLS] if context == EVERY_TOOL else [context]
        lacking = [(name, command) for name, command in owners if option not in known_options(name, command)]
        if lacking:
            near = difflib.get_close_matches(option, known_options(*lacking[0]), n=1)
            wrong.append(f"{readme}:{number}: {option} is not an option of "
                         + ", ".join(name + (f" {command}" if command else "") for name, command in lacking)
                         + (f" (did you mean {near[0]}?)" if near else ""))
    assert not wrong, "\n".join(wrong)


# What each tool may contain: its family's library and what that builds on (Package.swift).
FAMILY_MODULES = {
    "arc-discover": {"ArcCore", "ArcCollect"},
    "arc-plan": {"ArcCore", "ArcCollect"},
    "arc-collect": {"ArcCore", "ArcCollect"},
    "arc-queue": {"ArcCore", "ArcQueue", "ArcHTTPServer"},
    "arc-check": {"ArcCore", "ArcSilver"},
    "arc-convert": {"ArcCore", "ArcSilver"},
    "s3x": {"ArcCore", "ArcS3x"},
    "telem-log": {"ArcCore", "ArcLogs"},
    "telem-trace": {"ArcCore", "ArcTraces", "ArcHTTPServer"},
    "wf-run": {"ArcCore", "ArcWorkflow", "ArcTOML", "ArcSchedule"},
}
LIBRARY_MODULES = {p.name for p in (ROOT / "Sources").iterdir() if p.name.startswith("Arc")}


def test_family_table_covers_every_tool():
    assert set(FAMILY_MODULES) == set(TOOLS)
    assert set().union(*FAMILY_MODULES.values()) <= LIBRARY_MODULES


@pytest.mark.parametrize("name", TOOLS)
def test_each_tool_links_only_its_family_and_no_foundation(name):
    """The target graph as built: a Swift symbol's mangled name starts with its module
    (`$s11ArcWorkflow...`), so the modules a binary defines symbols of are the modules
    linked into it. arc-plan holds no WorkflowRunner; no tool loads Foundation or ICU."""
    path = str(BIN / name)
    symbols = subprocess.run(["nm", "--defined-only", path], capture_output=True, text=True, check=True).stdout
    modules = set()
    for length, rest in re.findall(r"\$s(\d+)(Arc\w+)", symbols):
        candidate = rest[:int(length)]
        if candidate in LIBRARY_MODULES:
            modules.add(candidate)
    assert modules == FAMILY_MODULES[name]
    dynamic = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)
    assert needed and not [lib for lib in needed if "Foundation" in lib or "icu" in lib.lower() or "XCTest" in lib], needed
    # libcurl, libpq and libcrypto are opened on first use (Sources/C*/shim.h): linked, the
    # ~30 libraries under them were loaded by every start, most of a --version's time.
    assert not {"libcurl.so.4", "libpq.so.5", "libcrypto.so.3", "libssl.so.3"} & set(needed), needed


def test_every_option_the_code_reads_is_declared_in_a_spec():
    """An option read under a name no spec declares reads as "not given" for ever: debug
    builds assert on it at run time (ParsedCommand.read); this finds it in code no test runs.
    Per family: a read in ArcCollect must be declared by a spec in ArcCollect or be common."""
    def source(*dirs):
        return "\n".join(p.read_text() for d in dirs for p in (ROOT / "Sources" / d).rglob("*.swift"))
    def declared(text):
        return set(re.findall(r'OptionSpec\(\s*"([\w-]+)"', text)) | set(re.findall(r'\.flag\("([\w-]+)",\s*(?:short|help)', text))
    common = declared(source("ArcCore"))
    assert {"state", "log-level", "quiet", "trace", "metrics-file"} <= common
    problems = []
    for family in sorted({m for mods in FAMILY_MODULES.values() for m in mods} - {"ArcCore"}):
        text = source(family)
        # Parsed command lines are `p` or `parsed` throughout (records are `record`, `r`, `b`).
        reads = set(re.findall(r'\b(?:p|parsed)\.(?:flag|value|list|int|duration)\("([\w-]+)"', text))
        assert reads or family in ("ArcHTTPServer", "ArcTOML", "ArcSchedule"), f"no option reads found in {family}"
        problems += [f"{family} reads --{name}" for name in sorted(reads - declared(text) - common)]
    assert not problems
