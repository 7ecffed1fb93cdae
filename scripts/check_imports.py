#!/usr/bin/env python3
"""Checks that every SwiftPM target declares, in Package.swift, each package module its sources import.

    scripts/check_imports.py          # prints each target whose imports are not all declared; exits 1 if any

Reads `swift package dump-package` (run from the repository root); system modules (Foundation, Testing, …) and
products of other packages are recognised by name.
"""
import json, os, re, subprocess, sys

package = json.loads(subprocess.check_output(["swift", "package", "dump-package"], text=True))
targets = {t["name"]: t for t in package["targets"]}
external = {"Foundation", "FoundationXML", "FoundationNetworking", "Testing", "XCTest", "Dispatch", "Glibc", "Darwin",
            "Accelerate", "ArgumentParser", "Yams", "Numerics", "RealModule", "Logging", "Collections", "Synchronization"}
problems = 0
for name, target in sorted(targets.items()):
    if target["type"] == "system":
        continue
    declared = set()
    for dependency in target.get("dependencies", []):
        for kind in ("byName", "target", "product"):
            if kind in dependency:
                declared.add(dependency[kind][0])
    path = target.get("path") or os.path.join("Tests" if target["type"] == "test" else "Sources", name)
    imported = set()
    for root, _, files in os.walk(path):
        for file in files:
            if file.endswith(".swift"):
                text = open(os.path.join(root, file), encoding="utf-8").read()
                imported |= set(re.findall(r"^(?:@testable\s+)?import\s+(?:struct\s+|enum\s+|class\s+)?(\w+)", text, re.M))
    missing = sorted(m for m in imported - declared - external - {name} if m in targets)
    if missing:
        problems += 1
        print(f"{name}: imports {', '.join(missing)} without declaring it")
sys.exit(1 if problems else 0)
