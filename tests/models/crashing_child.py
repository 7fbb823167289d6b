"""Children that end the way native code ends: ``python tests/models/crashing_child.py MODE``.

- ``sigill``: executes ``ud2``, the instruction every x86 processor refuses (a real SIGILL,
  as an AMX or AVX-512 instruction raises on a processor that does not allow it);
- ``segv``: reads address 0 (a real SIGSEGV);
- ``hang``: never finishes;
- ``refuse-best ARGS...``: the self-test's own child, except that the CPU variant llama.cpp
  would pick first dies of a real illegal instruction, like AMX on a processor whose CPUID
  lists it but whose sandbox refuses it. Every other variant runs the real test.
"""

from __future__ import annotations

import ctypes
import json
import mmap
import platform
import sys
import time


def illegal_instruction() -> None:
    if platform.machine().lower() not in ("x86_64", "amd64", "i686", "i386"):
        import os
        import signal

        os.kill(os.getpid(), signal.SIGILL)  # no ud2 elsewhere: the same end, by the kernel
    code = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    code.write(b"\x0f\x0b")  # ud2
    address = ctypes.addressof(ctypes.c_char.from_buffer(code))
    ctypes.CFUNCTYPE(None)(address)()


def refuse_best(argv: list[str]) -> int:
    from models import engine_selftest
    from models.llama_backends import best_variant, cpu_variants, variant_scores

    exclude = frozenset()
    if "--exclude" in argv:
        exclude = frozenset(argv[argv.index("--exclude") + 1].split(","))
    scores = variant_scores(cpu_variants())
    first_choice = best_variant(scores)
    if best_variant(scores, exclude) == first_choice:
        print(json.dumps({"variant": first_choice, "scores": scores}), flush=True)
        illegal_instruction()
    return engine_selftest._child(argv)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "sigill":
        print(json.dumps({"variant": "sapphirerapids"}), flush=True)
        illegal_instruction()
    elif mode == "segv":
        ctypes.string_at(0)
    elif mode == "hang":
        time.sleep(3600)
    elif mode == "refuse-best":
        sys.exit(refuse_best(sys.argv[2:]))
    sys.exit(3)
