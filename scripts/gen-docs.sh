#!/usr/bin/env bash
# Writes man/TOOL.1 and completions/{bash,zsh,fish}/ from each tool's command spec.
# Usage: scripts/gen-docs.sh BIN_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release}
mkdir -p man completions/bash completions/zsh completions/fish
tools=()
for main in Sources/*/main.swift; do tools+=("$(basename "$(dirname "$main")")"); done
for tool in "${tools[@]}"; do
    "$bin/$tool" --generate-man > "man/$tool.1"
    "$bin/$tool" --generate-completion bash > "completions/bash/$tool"
    "$bin/$tool" --generate-completion zsh > "completions/zsh/_$tool"
    "$bin/$tool" --generate-completion fish > "completions/fish/$tool.fish"
done
echo "docs: wrote man/ and completions/ for ${tools[*]}" >&2
