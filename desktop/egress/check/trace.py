"""Read strace output (``-f -e trace=connect,sendto,sendmsg,sendmmsg``) into socket attempts and
say which of them would have left the machine."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

TRACED_CALLS = ("connect", "sendto", "sendmsg", "sendmmsg")
# Host daemons reached over Unix sockets that could make a lookup or a connection on a
# process's behalf (the sandbox hides them; an attempt to reach one is reported).
HOST_DAEMON_SOCKETS = ("/run/nscd/socket", "/var/run/nscd/socket",
                       "/run/systemd/resolve/io.systemd.Resolve",
                       "/run/dbus/system_bus_socket", "/var/run/dbus/system_bus_socket",
                       "/run/avahi-daemon/socket", "/var/run/avahi-daemon/socket")
_LOCAL_FAMILIES = {"AF_UNIX", "AF_LOCAL", "AF_NETLINK", "AF_UNSPEC"}

_CALL = re.compile(r"^(?P<pid>\d+)\s+(?P<call>" + "|".join(TRACED_CALLS) + r")\((?P<rest>.*)$")
_RESUMED = re.compile(r"^(?P<pid>\d+)\s+<\.\.\. (?P<call>\w+) resumed>(?P<rest>.*)$")
_FAMILY = re.compile(r"sa_family=(?P<family>AF_\w+|\d+)")
_PORT = re.compile(r"sin6?_port=htons\((?P<port>\d+)\)")
_INET = re.compile(r'inet_addr\("(?P<addr>[^"]+)"\)')
_INET6 = re.compile(r'inet_pton\(AF_INET6, "(?P<addr>[^"]+)"')
_UNIX = re.compile(r'sun_path=(?P<abstract>@?)"(?P<path>[^"]*)"')
_RESULT = re.compile(r"\)\s+=\s+(?P<ret>-?\d+|\?)(?:\s+(?P<errno>E[A-Z]+))?")


@dataclass(frozen=True)
class SocketAttempt:
    pid: int
    call: str
    family: str
    address: str  # an IP, a socket path, or "" when the family has none
    port: int | None
    result: str  # "ok", an errno name such as ENETUNREACH, or "?" (the process was killed)
    line: str  # the strace line, shortened

    @property
    def is_dns(self) -> bool:
        return self.family in ("AF_INET", "AF_INET6") and self.port == 53

    @property
    def leaves_machine(self) -> bool:
        """True for anything that is not plainly local: a non-loopback IP address, a DNS query
        (even to a loopback resolver, which would forward it), or an unknown address family."""
        if self.family in _LOCAL_FAMILIES:
            return False
        if self.family not in ("AF_INET", "AF_INET6"):
            return True
        if self.is_dns:
            return True
        try:
            ip = ipaddress.ip_address(self.address.split("%")[0])
        except ValueError:
            return True
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return not ip.is_loopback

    @property
    def reaches_host_daemon(self) -> bool:
        return self.family in ("AF_UNIX", "AF_LOCAL") and self.address in HOST_DAEMON_SOCKETS

    def to_json(self) -> dict[str, Any]:
        return dict(asdict(self), leaves_machine=self.leaves_machine,
                    reaches_host_daemon=self.reaches_host_daemon)


def parse_trace(text: str) -> list[SocketAttempt]:
    """Every socket address a traced call named. A call split by another thread
    (``<unfinished ...>`` then ``<... connect resumed>``) is joined back first."""
    pending: dict[int, tuple[str, str]] = {}
    attempts: list[SocketAttempt] = []
    for raw in text.splitlines():
        line = raw.strip()
        call = _CALL.match(line)
        if call and line.endswith("<unfinished ...>"):
            pending[int(call["pid"])] = (call["call"], call["rest"][: -len("<unfinished ...>")])
            continue
        resumed = _RESUMED.match(line)
        if resumed and int(resumed["pid"]) in pending:
            name, head = pending.pop(int(resumed["pid"]))
            joined = head + resumed["rest"]
            attempts.extend(_attempts(int(resumed["pid"]), name, joined, f"{name}({joined}"))
            continue
        if call:
            attempts.extend(_attempts(int(call["pid"]), call["call"], call["rest"], line))
    for pid, (name, head) in pending.items():  # killed mid-call: the address still counts
        attempts.extend(_attempts(pid, name, head + ") = ?", head))
    return attempts


def _attempts(pid: int, call: str, rest: str, line: str) -> Iterable[SocketAttempt]:
    results = list(_RESULT.finditer(rest))  # the last one: a sent payload may contain ") = "
    result_match = results[-1] if results else None
    if result_match is None or result_match["ret"] == "?":
        result = "?"
    else:
        result = result_match["errno"] or ("ok" if int(result_match["ret"]) >= 0 else "error")
    families = list(_FAMILY.finditer(rest))
    for i, fam in enumerate(families):
        end = families[i + 1].start() if i + 1 < len(families) else len(rest)
        segment = rest[fam.start():end]
        family = fam["family"]
        address, port = "", None
        pattern = {"AF_INET": _INET, "AF_INET6": _INET6}.get(family)
        if pattern is not None and (m := pattern.search(segment)):
            address = m["addr"]
        elif family in ("AF_UNIX", "AF_LOCAL") and (m := _UNIX.search(segment)):
            address = ("@" if m["abstract"] else "") + m["path"]
        if (p := _PORT.search(segment)) is not None:
            port = int(p["port"])
        yield SocketAttempt(pid, call, family, address, port, result, line[:300])


def read_trace(path: Path) -> list[SocketAttempt]:
    if not path.is_file():
        return []
    return parse_trace(path.read_text(encoding="utf-8", errors="replace"))
