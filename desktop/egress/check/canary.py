"""The canary: a deliberate network attempt that the tracer MUST see and the namespace MUST refuse.

Run as a plain ``python -m desktop.egress.check.canary MODE`` child, *not* through the enclave
entry point, so the in-process guard is not there to stop it: what it does reaches the kernel,
which is exactly what the detector has to prove it can see. Modes:

- ``probe``: connect to 192.0.2.1:443 (TEST-NET-1, never routed) and look up ``example.com``.
- ``guarded``: the same with Enclave's egress guard installed: the guard must refuse both before
  the kernel sees anything.
- ``leak``: the planted leak (a test seam): one raw connect, run as if it were a workflow step,
  so a test can prove that ``verify-egress`` FAILs when something in the workflow leaks;
  ``leak HOST:PORT`` aims it elsewhere (in server mode: the server's host on another port).

This is the one module besides the guard that imports ``socket``; nothing in the application
imports it (the static egress test allows exactly these two files).
"""

from __future__ import annotations

import json
import socket
import sys
from typing import Any

CANARY_HOST = "192.0.2.1"  # RFC 5737 TEST-NET-1: documentation only, routed nowhere
CANARY_PORT = 443
CANARY_NAME = "example.com"
LEAK_HOST = "198.51.100.7"  # RFC 5737 TEST-NET-2: the planted leak's destination
LEAK_PORT = 80


def _attempt_connect(host: str, port: int) -> dict[str, Any]:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect((host, port))
    except OSError as exc:
        return {"target": f"{host}:{port}", "refused": True,
                "error": f"{type(exc).__name__}: {exc}"}
    return {"target": f"{host}:{port}", "refused": False, "error": None}


def _attempt_lookup(name: str) -> dict[str, Any]:
    try:
        found = socket.getaddrinfo(name, CANARY_PORT, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        return {"target": name, "refused": True, "error": f"{type(exc).__name__}: {exc}"}
    return {"target": name, "refused": False, "error": None,
            "addresses": sorted({str(f[4][0]) for f in found})}


def run(mode: str, target: str | None = None) -> dict[str, Any]:
    if mode == "guarded":
        from desktop.egress import guard as egress_guard

        egress_guard.install()
    if mode == "leak":
        host, port = target.rsplit(":", 1) if target else (LEAK_HOST, str(LEAK_PORT))
        return {"mode": mode, "connect": _attempt_connect(host, int(port))}
    return {"mode": mode, "connect": _attempt_connect(CANARY_HOST, CANARY_PORT),
            "lookup": _attempt_lookup(CANARY_NAME)}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("probe", "guarded", "leak") or len(argv) > 2 \
            or (len(argv) == 2 and argv[0] != "leak"):
        print("usage: python -m desktop.egress.check.canary probe|guarded|leak [HOST:PORT]",
              file=sys.stderr)
        return 2
    print(json.dumps(run(argv[0], argv[1] if len(argv) == 2 else None)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
