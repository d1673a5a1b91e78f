"""The architecture, checked. Between targets the compiler keeps the graph true (a target
imports only what Package.swift lets it). Inside ArcCore, folders are layers, and this test
keeps them so: a folder uses names declared in its own layer or below, never above.

    Support  <  Records  <  CLI  <  Store  <  Transfer  <  S3  <  Telemetry  <  Runtime

A name counts as used when it appears in code (comments and string literals removed) and a
top-level declaration of it (type, protocol, typealias or function) is in another folder.
"""
import re
from pathlib import Path

import pytest

from conftest import ROOT

CORE = ROOT / "Sources" / "ArcCore"
LAYERS = ["Support", "Records", "CLI", "Store", "Transfer", "S3", "Telemetry", "Runtime"]

DECLARATION = re.compile(
    r"^(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|internal|package|final|indirect)\s+)*"
    r"(?:struct|class|enum|protocol|typealias|actor|func)\s+([A-Za-z_]\w*)", re.M)


def code_of(path):
    text = path.read_text()
    text = re.sub(r'"""(?:.|\n)*?"""', '""', text)
    text = re.sub(r'#"(?:[^"\n]|"(?!#))*"#', '""', text)
    text = re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', text)
    return re.sub(r"//[^\n]*", "", text)


def folders():
    return {p.name: sorted(p.rglob("*.swift")) for p in CORE.iterdir() if p.is_dir()}


def test_every_core_folder_has_a_layer():
    assert sorted(folders()) == sorted(LAYERS)


def test_no_core_folder_uses_a_layer_above_it():
    declared = {}
    for folder, files in folders().items():
        for f in files:
            for name in DECLARATION.findall(code_of(f)):
                declared[name] = folder
    problems = []
    for folder, files in folders().items():
        rank = LAYERS.index(folder)
        for f in files:
            for name in sorted(set(re.findall(r"\b[A-Za-z_]\w*\b", code_of(f)))):
                owner = declared.get(name)
                if owner and LAYERS.index(owner) > rank:
                    problems.append(f"{f.relative_to(ROOT)} ({folder}) uses {name} from {owner}")
    assert not problems, "\n".join(problems)
