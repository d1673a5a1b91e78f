#!/usr/bin/env bash
# Writes man/TOOL.1 and completions/{bash,zsh,fish}/ from each tool's command spec.
# Usage: scripts/gen-docs.sh BIN_DIR            regenerate the committed files
#        scripts/gen-docs.sh --check BIN_DIR    regenerate into a temporary directory and
#                                               diff against the committed files: exit 1
#                                               with the diff when they differ
set -euo pipefail
cd "$(dirname "$0")/.."
check=false
if [ "${1:-}" = --check ]; then check=true; shift; fi
bin=${1:-.build/release}
tools=()
for main in Sources/*/main.swift; do tools+=("$(basename "$(dirname "$main")")"); done
for tool in "${tools[@]}"; do
    [ -x "$bin/$tool" ] || { echo "gen-docs: $bin/$tool: not built" >&2; exit 2; }
done

out=.
if $check; then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out/man" "$out/completions/bash" "$out/completions/zsh" "$out/completions/fish"
for tool in "${tools[@]}"; do
    "$bin/$tool" --generate-man > "$out/man/$tool.1"
    "$bin/$tool" --generate-completion bash > "$out/completions/bash/$tool"
    "$bin/$tool" --generate-completion zsh > "$out/completions/zsh/_$tool"
    "$bin/$tool" --generate-completion fish > "$out/completions/fish/$tool.fish"
done

if $check; then
    # diff -r also names a committed file no tool generates any more (and the reverse).
    status=0
    for dir in man completions; do
        diff -ru "$dir" "$out/$dir" || status=1
    done
    if [ $status != 0 ]; then
        echo "check-docs: man/ or completions/ differ from what the tools in $bin generate; run \`make docs\` and commit the result" >&2
        exit 1
    fi
    echo "check-docs: man/ and completions/ match ${tools[*]}" >&2
else
    echo "docs: wrote man/ and completions/ for ${tools[*]}" >&2
fi
