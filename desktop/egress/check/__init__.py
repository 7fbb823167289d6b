"""``enclave verify-egress``: run a scripted full workflow in a child process under OS-level
isolation (a fresh network namespace with only a loopback) and tracing (strace of every connect
and send), then prove from the trace that nothing tried to reach beyond loopback.

Modules: ``plan`` (the workflow steps and the hostile environment they run in), ``sandbox`` (runs
inside the namespace), ``canary`` (the deliberate probe that proves the detector sees), ``trace``
(reads strace output), ``inventory`` (package versions, model file hashes), ``report`` (JSON and
Markdown) and ``command`` (the orchestration behind the CLI).
"""
