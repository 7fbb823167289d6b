"""``enclave models``: list the model registry; install the default model (a setup step);
import a GGUF with its SHA-256 checked (the window's "Models" dialog does the same, through
desktop/app/model_catalog.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from desktop.app import model_catalog
from desktop.app.application import Application
from desktop.app.settings import save_settings
from models import provisioning, registry


def register(commands: Any) -> None:
    p = commands.add_parser("models", help="list installed models; install the default model")
    sub = p.add_subparsers(metavar="ACTION")
    lst = sub.add_parser("list", help="list the GGUF models Enclave can use")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(run=run_list)
    inst = sub.add_parser("install-default",
                          help="copy the bundled default model into the data directory")
    inst.set_defaults(run=run_install_default)
    imp = sub.add_parser("import", help="copy a .gguf model file into the models folder, "
                                        "checking its SHA-256")
    imp.add_argument("file", type=Path, help="the .gguf file (any folder, a USB stick)")
    imp.add_argument("--sha256", help="the SHA-256 published with the model: a file that "
                                      "differs is refused and nothing is added")
    imp.add_argument("--use", action="store_true", help="answer with it from now on")
    imp.set_defaults(run=run_import)
    p.set_defaults(run=run_list, json=False)


def run_list(args: argparse.Namespace, app: Application) -> int:
    settings = app.settings
    found = registry.scan(settings.models_dir, extra=(settings.model_path,))
    if args.json:
        print(json.dumps({"models": [dict(m.to_json(), active=m.path == settings.model_path)
                                     for m in found]}, indent=2))
        return 0
    if not found:
        print(f"No models in {settings.models_dir}. Run: enclave models install-default")
        return 1
    for m in found:
        mark = "*" if m.path == settings.model_path else " "
        ctx = f"{m.context_length} ctx" if m.context_length else "ctx ?"
        print(f"{mark} {m.name:32} {m.quantization:8} {m.size_bytes / 1e6:8.1f} MB  {ctx}  "
              f"{m.path}")
    return 0


def run_install_default(args: argparse.Namespace, app: Application) -> int:
    settings = app.settings
    done = provisioning.install_default_model(settings.models_dir)
    verb = "Installed" if done.copied else "Already installed (verified)"
    print(f"{verb}: {done.path}")
    return 0


def run_import(args: argparse.Namespace, app: Application) -> int:
    settings = app.settings
    try:
        done = model_catalog.import_model(args.file.expanduser().resolve(), settings.models_dir,
                                          args.sha256)
    except model_catalog.ImportRefused as exc:
        print(f"enclave: {exc}", file=sys.stderr)
        return 1
    check = ("matches the one given" if done.checked
             else "compare it with the one published for the model")
    print(f"Imported: {done.path}\nSHA-256: {done.sha256} ({check})")
    if args.use:
        save_settings(settings, model_path=done.path)
        print("Enclave now answers with it.")
    return 0
