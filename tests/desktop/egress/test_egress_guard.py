from __future__ import annotations

import socket
import socketserver
import threading

import pytest

from desktop.egress import guard as egress_guard


def test_the_suite_runs_with_non_loopback_connections_refused() -> None:
    guard = egress_guard.current()
    assert guard is not None
    before = guard.blocked_count
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s, \
            pytest.raises(egress_guard.EgressBlocked, match="offline"):
        s.connect(("10.255.255.1", 443))
    assert guard.blocked_count == before + 1
    assert "test_egress_guard" in guard.blocked[-1].stack


def test_name_lookups_are_refused() -> None:
    with pytest.raises(egress_guard.EgressBlocked):
        socket.getaddrinfo("huggingface.co", 443)


def test_loopback_stays_open() -> None:
    class Echo(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.sendall(self.request.recv(16))

    with socketserver.TCPServer(("127.0.0.1", 0), Echo) as server:
        t = threading.Thread(target=server.handle_request)
        t.start()
        with socket.create_connection(("localhost", server.server_address[1]), timeout=5) as c:
            c.sendall(b"ping")
            assert c.recv(16) == b"ping"
        t.join(5)


def test_configured_on_prem_hosts_are_allowed() -> None:
    guard = egress_guard.EgressGuard(allowed_hosts=frozenset({"chroma.hospital.local"}))
    assert guard.is_allowed("chroma.hospital.local")
    assert guard.is_allowed("127.8.0.1") and guard.is_allowed("::1")
    assert not guard.is_allowed("8.8.8.8") and not guard.is_allowed("example.com")


def test_rearming_with_the_settings_allows_on_prem_hosts_and_logs_to_the_audit_log(
        enclave_home: object) -> None:
    from desktop.app import audit_log
    from desktop.app.settings import load_settings
    from desktop.egress.arming import arm_egress_guard

    suite_guard = egress_guard.current()
    assert suite_guard is not None
    settings = load_settings().replace(allowed_hosts=("chroma.hospital.local",))
    counted_before = suite_guard.blocked_count
    try:
        armed = arm_egress_guard(settings)
        assert egress_guard.current() is armed
        assert armed.blocked_count == counted_before  # the status bar never goes backwards
        assert armed.is_allowed("chroma.hospital.local")
        with pytest.raises(egress_guard.EgressBlocked):
            socket.getaddrinfo("telemetry.example.org", 443)
    finally:
        egress_guard.install(suite_guard.allowed_hosts)
    entries = audit_log.read_entries(settings.home / "audit" / "audit.jsonl")
    assert [(e["kind"], e["data"]["target"]) for e in entries] == \
        [("egress_blocked", "lookup of 'telemetry.example.org'")]
    assert armed.blocked_count == counted_before + 1


def test_ipv4_loopback_written_as_ipv6_is_loopback_and_other_mapped_addresses_are_not() -> None:
    guard = egress_guard.current()
    assert guard is not None
    assert guard.is_allowed("::ffff:127.0.0.1") and guard.is_allowed("[::ffff:127.0.0.2]")
    assert not guard.is_allowed("::ffff:192.0.2.1")


def test_an_allowed_host_with_a_port_admits_that_port_only() -> None:
    """IT allows the model server's port, not the whole machine behind it."""
    guard = egress_guard.EgressGuard(allowed_hosts=frozenset({"10.20.0.5:8080",
                                                              "[fd00::7]:443", "db.internal"}))
    assert guard.is_allowed("10.20.0.5", 8080)
    assert not guard.is_allowed("10.20.0.5", 22)
    assert guard.is_allowed("fd00::7", 443) and not guard.is_allowed("fd00::7", 80)
    assert guard.is_allowed("db.internal", 5432) and guard.is_allowed("db.internal", 6000)
    with socket.socket() as s, pytest.raises(egress_guard.EgressBlocked):
        guard.check("socket.connect", (s, ("10.20.0.5", 22)))
    with socket.socket() as s:
        guard.check("socket.connect", (s, ("10.20.0.5", 8080)))  # no exception


def test_a_connection_to_the_address_an_allowed_name_resolves_to_is_allowed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx resolves the server's name, then connects to the address: the guard sees only the
    address and must know it belongs to the allowed name (and port)."""
    guard = egress_guard.EgressGuard(allowed_hosts=frozenset({"gpu.clinic.internal:8080"}))
    looked_up: list[str] = []

    def resolve(host: str, port: object, *args: object, **kwargs: object) -> list[tuple]:
        looked_up.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.9.8.7", 8080))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    assert guard.is_allowed("10.9.8.7", 8080)
    assert not guard.is_allowed("10.9.8.7", 9090) and not guard.is_allowed("10.9.8.6", 8080)
    assert looked_up == ["gpu.clinic.internal"]  # once, however often it is asked


def test_the_model_servers_endpoint_is_allowed_in_server_mode_only(enclave_home: object) -> None:
    from desktop.app.settings import load_settings
    from desktop.egress.arming import allowed_endpoints

    settings = load_settings().replace(allowed_hosts=("chroma.hospital.local",),
                                       chat_server_url="https://gpu.clinic.internal/v1")
    assert allowed_endpoints(settings) == ("chroma.hospital.local",)
    server = settings.replace(chat_backend="server")
    assert allowed_endpoints(server) == ("chroma.hospital.local", "gpu.clinic.internal:443")


def test_the_index_servers_endpoints_are_allowed_when_the_index_is_shared_only(
        enclave_home: object) -> None:
    from desktop.app.settings import load_settings
    from desktop.egress.arming import allowed_endpoints

    settings = load_settings().replace(
        index_vector_server_url="https://index.clinic.internal:8000",
        index_database_url="postgresql://enclave@db.clinic.internal/enclave")
    assert allowed_endpoints(settings) == ()
    shared = settings.replace(index_backend="server")
    assert allowed_endpoints(shared) == ("index.clinic.internal:8000",
                                         "db.clinic.internal:5432")
    by_address = shared.replace(index_vector_server_url="http://10.20.0.7:8000",
                                index_database_url="postgresql://enclave@10.20.0.8/enclave")
    guard = egress_guard.EgressGuard(allowed_hosts=frozenset(allowed_endpoints(by_address)))
    assert guard.is_allowed("10.20.0.7", 8000) and guard.is_allowed("10.20.0.8", 5432)
    assert not guard.is_allowed("10.20.0.7", 5432) and not guard.is_allowed("10.20.0.8", 8000)
