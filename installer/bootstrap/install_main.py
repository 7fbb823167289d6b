"""``python3 install.py [install|upgrade|uninstall] --prefix DIR ...``: the offline installer.

Runs from an unpacked bundle with no network. It verifies every file of the bundle against its
manifest before it touches anything, then installs into a dedicated environment under the
prefix. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from installer.bootstrap import deploy, system_packages
from installer.bootstrap.install_options import InstallOptions, OptionsError, resolve_options
from installer.bootstrap.manifest import Entry, ManifestError, verify
from installer.bootstrap.steplog import StepLog

BUNDLE_INFO = "bundle.json"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="install.py",
        description="Install, upgrade or remove Enclave from this offline bundle "
                    "(no network needed).")
    p.add_argument("action", nargs="?", default="install",
                   choices=("install", "upgrade", "uninstall", "verify"),
                   help="install (default), upgrade (keeps your data), uninstall, or verify "
                        "the bundle only")
    p.add_argument("--prefix", help="where the program goes, e.g. /opt/enclave")
    p.add_argument("--data", help="the data directory (ENCLAVE_HOME); default: the user's "
                                  "Enclave data directory")
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="a JSON or TOML file with these options, for unattended roll-out")
    p.add_argument("--model", help="file name of a bundled GGUF to use as the chat model "
                                   "(default: the bundle's default model)")
    p.add_argument("--applications-dir", metavar="DIR",
                   help="where the .desktop launcher goes (default: "
                        "~/.local/share/applications)")
    p.add_argument("--no-desktop-entry", action="store_true",
                   help="do not add a desktop launcher")
    p.add_argument("--python", metavar="PYTHON",
                   help="the Python to build the environment from (default: this one)")
    p.add_argument("--no-system-packages", action="store_true",
                   help="do not install the bundle's Debian packages (the window's Qt "
                        "libraries, Tesseract OCR)")
    p.add_argument("--skip-doctor", action="store_true",
                   help="do not run 'enclave doctor' after installing")
    p.add_argument("--purge-data", action="store_true",
                   help="with uninstall: also delete the data directory")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    return p


def main(argv: Sequence[str] | None = None, bundle_dir: Path | None = None) -> int:
    args = build_parser().parse_args(argv)
    bundle = (bundle_dir or Path(__file__).resolve().parent.parent).resolve()
    log = StepLog("enclave-install")
    try:
        if args.action == "verify":
            _verify_bundle(bundle, log)
            return EXIT_OK
        options = resolve_options(_flags(args), args.config)
        if args.action == "uninstall":
            return _uninstall(options, args.purge_data, log)
        return _install(bundle, options, upgrade=args.action == "upgrade",
                        run_doctor=not args.skip_doctor, log=log)
    except (OptionsError, ManifestError, deploy.DeployError) as exc:
        log(f"STOPPED: {exc}")
        if log.path is not None:
            print(f"install.py: the full log is in {log.path}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, OptionsError) else EXIT_FAILED
    except KeyboardInterrupt:
        log("STOPPED: interrupted")
        return 130
    finally:
        log.close()


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    flags: dict[str, Any] = {"prefix": args.prefix, "data": args.data, "model": args.model,
                             "applications_dir": args.applications_dir, "python": args.python,
                             "yes": True if args.yes else None}
    if args.no_desktop_entry:
        flags["desktop_entry"] = False
    if args.no_system_packages:
        flags["system_packages"] = False
    return flags


def _verify_bundle(bundle: Path, log: StepLog) -> tuple[list[Entry], dict[str, Any]]:
    log(f"checking every file of the bundle in {bundle} against manifest.json")
    entries = verify(bundle)
    total = sum(e.size for e in entries)
    log(f"bundle intact: {len(entries)} files, {total / 1e6:.1f} MB, all SHA-256 match")
    info = json.loads((bundle / BUNDLE_INFO).read_text(encoding="utf-8"))
    return entries, info


def _check_target(info: dict[str, Any], python: Path) -> None:
    probe = subprocess.run(
        [str(python), "-c", "import sys, sysconfig; "
                            "print(f'{sys.version_info[0]}.{sys.version_info[1]}'); "
                            "print(sysconfig.get_platform())"],
        capture_output=True, text=True)
    if probe.returncode != 0:
        raise deploy.DeployError(f"{python} does not run: {probe.stderr.strip()}")
    version, platform = probe.stdout.split()
    if version != info["python"]:
        raise deploy.DeployError(
            f"This bundle was built for Python {info['python']}, but {python} is Python "
            f"{version}. Install Python {info['python']} (or pass --python) and run again.")
    if platform != info["platform"]:
        raise deploy.DeployError(f"This bundle is for {info['platform']}; this machine is "
                                 f"{platform}. Build a bundle on a {platform} machine.")


def _confirm(question: str, options: InstallOptions) -> None:
    if options.yes:
        return
    if not sys.stdin.isatty():
        raise OptionsError("Not asking on a non-interactive run: add --yes to proceed.")
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise OptionsError("Nothing was changed.")


def _install(bundle: Path, options: InstallOptions, upgrade: bool, run_doctor: bool,
             log: StepLog) -> int:
    entries, info = _verify_bundle(bundle, log)
    _check_target(info, options.python)
    prefix = options.prefix
    previous = deploy.InstallRecord.read(prefix)
    if previous and not upgrade:
        raise OptionsError(f"Enclave {previous.version} is already installed in {prefix}. "
                           "Use 'install.py upgrade' (your data is kept).")
    if upgrade and not previous:
        raise OptionsError(f"There is no Enclave installation in {prefix} to upgrade; "
                           "use 'install.py install'.")
    model = options.model or info["default_model"]
    bundled = {Path(e.path).name for e in entries if e.path.startswith("models/")}
    if model not in bundled:
        raise OptionsError(f"The bundle has no model named {model}. It has: "
                           f"{', '.join(sorted(bundled))}.")
    verb = "Upgrade" if upgrade else "Install"
    _confirm(f"{verb} Enclave {info['version']} ({info['backend']}) into {prefix}, "
             f"data in {options.data}?", options)
    log.open_file(prefix / "logs" / "install.log")
    log(f"{verb.lower()} Enclave {info['version']} ({info['backend']} build) into {prefix}")
    if options.system_packages:
        system_packages.install_bundled(bundle, log)
    venv = deploy.new_venv_dir(prefix, info["version"])
    try:
        deploy.create_venv(options.python, venv, log)
        deploy.install_packages(venv, bundle / "wheelhouse", info["version"],
                                [bundle / "wheelhouse" / w for w in info["model_wheels"]], log)
    except BaseException:
        deploy.remove_tree(venv, log, "the unfinished environment")
        raise
    deploy.make_private_dir(options.data, log)
    models_dir = options.data / "models"
    deploy.place_models(bundle, entries, models_dir, log)
    settings = dict(options.settings)
    if options.model or ("model_path" not in settings and not upgrade):
        settings["model_path"] = str(models_dir / model)
    deploy.write_config(options.data, settings, log)
    launcher = deploy.write_launcher(prefix, venv, options.data, log)
    desktop = None
    if options.applications_dir is not None:
        desktop = deploy.write_desktop_entry(options.applications_dir, launcher, log)
    deploy.InstallRecord(version=info["version"], backend=info["backend"], venv=str(venv),
                         data=str(options.data), launcher=str(launcher),
                         desktop_entry=str(desktop) if desktop else None).write(prefix)
    if previous and Path(previous.venv) != venv:
        deploy.remove_tree(Path(previous.venv), log, f"the previous program ({previous.version})")
    log(f"Enclave {info['version']} is installed: run {launcher}")
    if run_doctor:
        return _doctor(launcher, log)
    return EXIT_OK


def _doctor(launcher: Path, log: StepLog) -> int:
    log("checking the installation: enclave doctor")
    proc = subprocess.run([str(launcher), "doctor"], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k != "ENCLAVE_MODEL"})
    for line in (proc.stdout + proc.stderr).splitlines():
        log(f"  {line}")
    if proc.returncode != 0:
        log("installed, but 'enclave doctor' found problems (see above)")
        return EXIT_FAILED
    log("enclave doctor: all checks passed")
    return EXIT_OK


def _uninstall(options: InstallOptions, purge_data: bool, log: StepLog) -> int:
    prefix = options.prefix
    record = deploy.InstallRecord.read(prefix)
    if record is None:
        raise OptionsError(f"There is no Enclave installation in {prefix}.")
    what = "Remove Enclave" + (" AND ALL ITS DATA" if purge_data else " (your data is kept)")
    _confirm(f"{what} from {prefix}?", options)
    log.open_file(prefix / "logs" / "install.log")
    log(f"uninstall Enclave {record.version} from {prefix}")
    deploy.uninstall(prefix, record, purge_data, log)
    log("Enclave is uninstalled")
    return EXIT_OK


def platform_tag() -> str:
    return sysconfig.get_platform()
