"""``python -m installer.bundle build --out DIR``: build the offline bundle (connected machine).

One archive holds a wheelhouse of the exact versions installed here (llama-cpp-python built
for the chosen backend), the default model plus any GGUF files IT adds, the models' licences,
a CycloneDX SBOM, the standard-library installer and a manifest with the SHA-256 and size of
every file. Build on the same OS, CPU architecture and Python minor version as the
workstations: wheels are platform-specific.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import sysconfig
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from installer import llama_wheel, system_packages, wheelhouse
from installer.archive import make_tar_gz
from installer.bootstrap.manifest import file_sha256, write_manifest
from installer.bootstrap.steplog import StepLog
from installer.bootstrap.system_packages import FOLDER
from installer.model_licences import (
    EMBEDDING_PACKAGE,
    LicensedModel,
    default_models,
    describe_extra_gguf,
    embedding_model,
    write_licences,
)
from installer.sbom import ModelComponent, build_sbom, write_sbom

BUNDLE_INFO = "bundle.json"
# The installer modules the bundle carries (installer/bootstrap/): standard library only,
# runnable by the target's python3 before anything is installed.
INSTALLER_MODULES = ("__init__.py", "manifest.py", "steplog.py", "install_options.py",
                     "settings_keys.py", "deploy.py", "system_packages.py", "install_main.py")


class BuildError(RuntimeError):
    pass


@dataclass(frozen=True)
class BuildOptions:
    out: Path
    backend: str = "cpu"
    extra_gguf: Sequence[Path] = field(default_factory=tuple)
    project: Path = Path(__file__).resolve().parent.parent
    llama_wheel: Path | None = None
    keep_staging: bool = False
    system_packages: bool = True  # the window's and the OCR's Debian packages (apt needed)


@dataclass(frozen=True)
class BuildResult:
    archive: Path
    staging: Path | None  # kept only with keep_staging
    size_bytes: int
    sha256: str
    seconds: float


def bundle_name(version: str, backend: str) -> str:
    platform = sysconfig.get_platform().replace("-", "_")
    return f"enclave-{version}-py{sys.version_info.major}{sys.version_info.minor}-" \
           f"{platform}-{backend}"


def build_bundle(options: BuildOptions, log: StepLog) -> BuildResult:
    started = time.monotonic()
    version = _project_version(options.project)
    name = bundle_name(version, options.backend)
    out = options.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    log.open_file(out / f"{name}.build.log")
    staging, work = out / name, out / f".{name}.work"
    for old in (staging, work):
        shutil.rmtree(old, ignore_errors=True)
    house = staging / "wheelhouse"
    house.mkdir(parents=True)
    work.mkdir()
    log(f"building bundle {name} in {staging}")

    app_wheel = wheelhouse.build_project_wheel(options.project, house, work, log)
    llama_dir = work / "llama"
    llama = wheelhouse.build_llama_wheel(options.backend, llama_dir, log, options.llama_wheel,
                                         built_dir=options.project / ".whl")
    llama_build = llama_wheel.record_of(llama)
    wheelhouse.collect_dependencies(app_wheel, llama_dir, house, work, log)
    model_wheels = wheelhouse.collect_model_wheels(house, log)
    wheels = sorted(house.glob("*.whl"))
    log(f"wheelhouse: {len(wheels)} wheels, "
        f"{sum(w.stat().st_size for w in wheels) / 1e6:.1f} MB")

    models = _place_models(staging / "models", options.extra_gguf, log)
    embedder_wheel = next(house / w for w in model_wheels
                          if w.startswith(EMBEDDING_PACKAGE + "-"))
    write_licences(staging / "licenses", [*models, embedding_model(embedder_wheel)], log)
    debs = _add_system_packages(staging, options.system_packages, log)
    _copy_installer(staging, options.project, log)
    info = {
        "name": "enclave",
        "version": version,
        "backend": options.backend,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "platform": sysconfig.get_platform(),
        "default_model": models[0].path.name,
        "models": [m.path.name for m in models],
        "model_wheels": model_wheels,
        "llama_cpp_python": wheelhouse.installed_version(wheelhouse.LLAMA_DIST),
        "llama_cpp_build": llama_build,
        "system_packages": [d.name for d in debs],
    }
    (staging / BUNDLE_INFO).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n",
                                       encoding="utf-8")
    log(f"wrote {BUNDLE_INFO}: enclave {version}, {options.backend} build, Python "
        f"{info['python']}, {info['platform']}")
    sbom_models = [ModelComponent(m.name, m.version, m.path, m.license_id, m.description)
                   for m in [*models, embedding_model(embedder_wheel)]]
    write_sbom(staging / "sbom.cdx.json", build_sbom(staging, app_wheel, wheels, sbom_models,
                                                     llama_build))
    log(f"wrote the CycloneDX 1.5 SBOM sbom.cdx.json ({len(wheels) + len(models)} components)")
    manifest = write_manifest(staging, llama_cpp_build=llama_build)
    log(f"wrote {manifest.name}: SHA-256 and size of every file, and the llama.cpp build flags")

    archive = make_tar_gz(staging, out / f"{name}.tar.gz")
    digest = file_sha256(archive)
    (out / f"{archive.name}.sha256").write_text(f"{digest}  {archive.name}\n", encoding="utf-8")
    size = archive.stat().st_size
    log(f"wrote {archive} ({size / 1e6:.1f} MB, SHA-256 {digest})")
    shutil.rmtree(work, ignore_errors=True)
    if not options.keep_staging:
        shutil.rmtree(staging)
    seconds = time.monotonic() - started
    log(f"bundle built in {seconds:.0f} s")
    return BuildResult(archive, staging if options.keep_staging else None, size, digest,
                       seconds)


def _project_version(project: Path) -> str:
    import tomllib

    try:
        data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
        return str(data["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise BuildError(f"{project} has no readable pyproject.toml with a version "
                         f"({exc}); pass --project with Enclave's source folder.") from exc


def _place_models(target: Path, extra: Sequence[Path], log: StepLog) -> list[LicensedModel]:
    target.mkdir(parents=True)
    models = default_models(target, log)
    seen = {m.path.name for m in models}
    for path in extra:
        model = describe_extra_gguf(path)
        if path.name in seen:
            raise BuildError(f"Two models are named {path.name}; rename one.")
        seen.add(path.name)
        shutil.copyfile(path, target / path.name)
        models.append(model.at(target / path.name))
        log(f"added model {path.name} ({path.stat().st_size / 1e6:.1f} MB, licence: "
            f"{model.license_id or 'not stated in the file'})")
    return models


def _add_system_packages(staging: Path, wanted: bool, log: StepLog) -> list[Path]:
    if not wanted:
        log("no system packages: the workstations must have the Qt xcb libraries and "
            "Tesseract already")
        return []
    if not system_packages.apt_available():
        log("no system packages: apt-get is not available here (build on a Debian-family "
            "machine to carry the Qt xcb libraries and Tesseract)")
        return []
    target = staging / FOLDER
    try:
        debs = system_packages.download_closure(system_packages.PACKAGES, target)
        system_packages.check_closure(debs)
    except system_packages.SystemPackagesError as exc:
        raise BuildError(f"{exc} (or build with --no-system-packages)") from exc
    size = sum(d.stat().st_size for d in debs) / 1e6
    log(f"added {len(debs)} Debian packages ({size:.1f} MB) to {FOLDER}/: the window's Qt "
        "libraries and Tesseract OCR with their dependencies; a minimal system with no "
        "package source installs them (checked with apt)")
    return debs


def _copy_installer(staging: Path, project: Path, log: StepLog) -> None:
    source = project / "installer" / "bootstrap"  # the installer of the Enclave being bundled
    target = staging / "installer" / "bootstrap"
    target.mkdir(parents=True)
    (staging / "installer" / "__init__.py").write_text(
        '"""Enclave\'s offline installer (standard library only)."""\n', encoding="utf-8")
    for name in INSTALLER_MODULES:
        shutil.copyfile(source / name, target / name)
    shutil.copyfile(source / "bundle_entry.py", staging / "install.py")
    (staging / "install.py").chmod(0o755)
    guide = project / "docs" / "INSTALL.md"
    if guide.is_file():
        shutil.copyfile(guide, staging / "INSTALL.md")
    log("added the installer: install.py (standard library only) and the IT guide")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m installer.bundle",
                                description="Build Enclave's offline installation bundle.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    b = sub.add_parser("build", help="build the bundle archive")
    b.add_argument("--out", type=Path, required=True, help="folder for the archive")
    b.add_argument("--backend", choices=sorted(wheelhouse.BACKEND_CMAKE_ARGS), default="cpu",
                   help="llama.cpp build: cpu (default), cuda or metal (see docs/GPU.md)")
    b.add_argument("--gguf", type=Path, action="append", default=[], metavar="FILE",
                   help="an extra GGUF model to ship (repeat for several)")
    b.add_argument("--llama-wheel", type=Path, metavar="WHEEL",
                   help="use this llama-cpp-python wheel instead of building one")
    b.add_argument("--project", type=Path, default=BuildOptions.project,
                   help="Enclave's source folder (default: this checkout)")
    b.add_argument("--no-system-packages", action="store_true",
                   help="do not carry the window's and the OCR's Debian packages")
    b.add_argument("--keep-staging", action="store_true",
                   help="keep the unpacked bundle folder next to the archive")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log = StepLog("enclave-bundle")
    options = BuildOptions(out=args.out, backend=args.backend,
                           extra_gguf=tuple(p.resolve() for p in args.gguf),
                           project=args.project.resolve(), llama_wheel=args.llama_wheel,
                           keep_staging=args.keep_staging,
                           system_packages=not args.no_system_packages)
    from models.errors import ModelError

    try:
        result = build_bundle(options, log)
    except (BuildError, wheelhouse.WheelhouseError, ModelError, OSError) as exc:
        log(f"FAILED: {exc}")
        return 1
    finally:
        log.close()
    print(result.archive)
    return 0


if __name__ == "__main__":
    sys.exit(main())
