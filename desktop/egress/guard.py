"""The in-process egress guard: refuse every socket connection or name lookup beyond loopback.

It is a Python audit hook (PEP 578), installed first thing at start-up. Python cannot remove an
audit hook once added, so there is one hook per process and it consults the guard object that
installed it. What it cannot see: native code that opens sockets without going through Python
(a C library calling connect(2) itself). Those are caught by ``enclave verify-egress``, which
runs the whole workflow under OS-level isolation and tracing, not by this guard.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class EgressBlocked(ConnectionRefusedError):
    """Raised in place of a network call that would leave the machine."""


@dataclass(frozen=True)
class BlockedAttempt:
    event: str
    target: str
    stack: str

    def to_json(self) -> dict[str, str]:
        return {"event": self.event, "target": self.target, "stack": self.stack}


@dataclass(frozen=True)
class Endpoint:
    """One configured on-prem server: a host name or address, and its port (None: any)."""

    host: str
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        """``host``, ``host:port``, ``[v6 address]:port`` or a bare IPv6 address."""
        text = text.strip().lower()
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else ""
        elif text.count(":") == 1:
            host, port = text.split(":")
        else:
            host, port = text, ""
        return cls(host, int(port) if port.isdigit() else None)

    def admits(self, port: Any) -> bool:
        return self.port is None or port in (None, 0) or _port(port) == self.port


def _port(port: Any) -> int | None:
    if isinstance(port, int):
        return port
    if isinstance(port, bytes):
        port = port.decode("ascii", "replace")
    return int(port) if isinstance(port, str) and port.isdigit() else None


@dataclass
class EgressGuard:
    """Counts and refuses non-loopback network attempts. ``allowed_hosts`` are the on-prem
    servers a user configured (names or IP addresses, each with or without a port), matched
    exactly: a connection to an allowed host on another port is refused."""

    allowed_hosts: frozenset[str] = frozenset()
    on_blocked: list[Callable[[BlockedAttempt], object]] = field(default_factory=list)
    blocked: list[BlockedAttempt] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _resolved: dict[Endpoint, frozenset[str]] = field(default_factory=dict, repr=False)

    def allow(self, hosts: Iterable[str]) -> None:
        """Allow exactly ``hosts`` from now on (the settings changed: another model server)."""
        with self._lock:
            self.allowed_hosts = frozenset(h.lower() for h in hosts)
            self._resolved.clear()

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        return tuple(Endpoint.parse(h) for h in sorted(self.allowed_hosts))

    @property
    def blocked_count(self) -> int:
        return len(self.blocked)

    def is_allowed(self, host: Any, port: Any = None) -> bool:
        if host is None:
            return True  # getaddrinfo(None, port): the local wildcard, no lookup
        if isinstance(host, bytes):
            host = host.decode("idna", "replace")
        host = str(host).strip("[]").lower()
        if host in ("", *_LOOPBACK_NAMES):
            return True
        try:
            address = ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            address = None
        if address is not None:
            # ::ffff:127.0.0.1 is the IPv4 loopback written as IPv6 (a dual-stack socket's view).
            mapped = getattr(address, "ipv4_mapped", None)
            if address.is_loopback or (mapped is not None and mapped.is_loopback):
                return True
        for endpoint in self.endpoints:
            if not endpoint.admits(port):
                continue
            if endpoint.host == host:
                return True
            if address is not None and host in self._addresses_of(endpoint):
                return True  # a connection to the address an allowed name resolved to
        return False

    def _addresses_of(self, endpoint: Endpoint) -> frozenset[str]:
        """The addresses an allowed host name stands for (looked up once; the lookup itself
        is of an allowed name, so this guard lets it through)."""
        if endpoint not in self._resolved:
            try:
                infos = socket.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
            except OSError:
                infos = []
            self._resolved[endpoint] = frozenset(str(info[4][0]).lower() for info in infos)
        return self._resolved[endpoint]

    def check(self, event: str, args: tuple[Any, ...]) -> None:
        target = _target_of(event, args)
        if target is _LOCAL:
            return
        host, port, shown = target
        if self.is_allowed(host, port):
            return
        attempt = BlockedAttempt(event, shown, "".join(traceback.format_stack(limit=25)[:-2]))
        with self._lock:
            self.blocked.append(attempt)
        for callback in list(self.on_blocked):
            with contextlib.suppress(Exception):
                callback(attempt)
        raise EgressBlocked(f"Enclave blocked a network call to {shown} ({event}): "
                            "Enclave works offline only.")


_LOCAL = object()
_HOOK_STATE: dict[str, EgressGuard] = {}  # the audit hook's one mutable slot (hooks are permanent)
_EVENTS = {"socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
           "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo"}


def _target_of(event: str, args: tuple[Any, ...]) -> Any:
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        sock, address = args[0], args[1]
        family = getattr(sock, "family", None)
        if address is None or family == getattr(socket, "AF_UNIX", object()):
            return _LOCAL  # connected sockets and Unix-domain sockets stay on this machine
        if isinstance(address, tuple) and address:
            if len(address) > 1:
                return address[0], address[1], f"{address[0]}:{address[1]}"
            return address[0], None, str(address[0])
        return _LOCAL if isinstance(address, str | bytes) else (str(address), None, str(address))
    if event == "socket.getaddrinfo":
        port = args[1] if len(args) > 1 else None
        return args[0], port, f"lookup of {args[0]!r}"
    if event in ("socket.gethostbyname", "socket.gethostbyaddr"):
        return args[0], None, f"lookup of {args[0]!r}"
    if event == "socket.getnameinfo":
        sockaddr = args[0]
        host = sockaddr[0] if isinstance(sockaddr, tuple) else sockaddr
        port = sockaddr[1] if isinstance(sockaddr, tuple) and len(sockaddr) > 1 else None
        return host, port, f"reverse lookup of {host!r}"
    return _LOCAL


def _audit_hook(event: str, args: tuple[Any, ...]) -> None:
    if event not in _EVENTS:
        return
    guard = _HOOK_STATE.get("guard")
    if guard is not None:
        guard.check(event, args)


def install(allowed_hosts: Iterable[str] = (),
            on_blocked: Iterable[Callable[[BlockedAttempt], object]] = ()) -> EgressGuard:
    """Install (or re-arm) the process's egress guard and return it.

    Re-arming (after the settings are loaded: on-prem hosts, the audit log) keeps the attempts
    already counted, so the window's status bar never goes backwards.
    """
    guard = EgressGuard(allowed_hosts=frozenset(h.lower() for h in allowed_hosts),
                        on_blocked=list(on_blocked))
    previous = _HOOK_STATE.get("guard")
    if previous is not None:
        guard.blocked.extend(previous.blocked)
    if "installed" not in _HOOK_STATE:
        sys.addaudithook(_audit_hook)
        _HOOK_STATE["installed"] = guard
    _HOOK_STATE["guard"] = guard
    return guard


def current() -> EgressGuard | None:
    return _HOOK_STATE.get("guard")
