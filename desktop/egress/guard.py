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


@dataclass
class EgressGuard:
    """Counts and refuses non-loopback network attempts. ``allowed_hosts`` are the on-prem
    servers a user configured (names or IP addresses), matched exactly."""

    allowed_hosts: frozenset[str] = frozenset()
    on_blocked: list[Callable[[BlockedAttempt], object]] = field(default_factory=list)
    blocked: list[BlockedAttempt] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def blocked_count(self) -> int:
        return len(self.blocked)

    def is_allowed(self, host: Any) -> bool:
        if host is None:
            return True  # getaddrinfo(None, port): the local wildcard, no lookup
        if isinstance(host, bytes):
            host = host.decode("idna", "replace")
        host = str(host).strip("[]").lower()
        if host in ("", *_LOOPBACK_NAMES) or host in self.allowed_hosts:
            return True
        try:
            address = ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            return False
        # ::ffff:127.0.0.1 is the IPv4 loopback written as IPv6 (a dual-stack socket's view).
        mapped = getattr(address, "ipv4_mapped", None)
        return address.is_loopback or (mapped is not None and mapped.is_loopback)

    def check(self, event: str, args: tuple[Any, ...]) -> None:
        target = _target_of(event, args)
        if target is _LOCAL:
            return
        host, shown = target
        if self.is_allowed(host):
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
            return address[0], f"{address[0]}:{address[1]}" if len(address) > 1 else address[0]
        return _LOCAL if isinstance(address, str | bytes) else (str(address), str(address))
    if event == "socket.getaddrinfo":
        return args[0], f"lookup of {args[0]!r}"
    if event in ("socket.gethostbyname", "socket.gethostbyaddr"):
        return args[0], f"lookup of {args[0]!r}"
    if event == "socket.getnameinfo":
        sockaddr = args[0]
        host = sockaddr[0] if isinstance(sockaddr, tuple) else sockaddr
        return host, f"reverse lookup of {host!r}"
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
