from __future__ import annotations

import os
import subprocess
import sys

from desktop.egress.offline import FORCED, force_offline_environment


def test_inherited_online_settings_are_overridden() -> None:
    env = {"HF_HUB_OFFLINE": "0", "HTTPS_PROXY": "http://proxy:3128", "PATH": "/bin"}
    overridden = force_offline_environment(env)
    assert env["HF_HUB_OFFLINE"] == "1" and env["TRANSFORMERS_OFFLINE"] == "1"
    assert "HTTPS_PROXY" not in env
    assert overridden == {"HF_HUB_OFFLINE": "0", "HTTPS_PROXY": "http://proxy:3128"}
    assert env["PATH"] == "/bin"


def test_every_forced_variable_says_why() -> None:
    assert all(why.strip() for _value, why in FORCED.values())


def test_the_command_forces_offline_before_heavy_imports() -> None:
    # A child that asks for the hub: the entry point must win before huggingface_hub is read.
    code = ("import sys; from desktop.cli.main import main; import os;"
            "sys.argv=['enclave','--help'];\n"
            "try: main()\nexcept SystemExit: pass\n"
            "print(os.environ['HF_HUB_OFFLINE'], 'huggingface_hub' in sys.modules,"
            " 'torch' in sys.modules, 'llama_cpp' in sys.modules)")
    env = dict(os.environ, HF_HUB_OFFLINE="0", TRANSFORMERS_OFFLINE="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    assert out == "1 False False False"


def test_other_spellings_of_forced_names_are_removed() -> None:
    # Chroma's settings loader ignores case: a lower-case twin must not win the coin toss.
    env = {"anonymized_telemetry": "True", "Hf_Hub_Offline": "0"}
    overridden = force_offline_environment(env)
    assert "anonymized_telemetry" not in env and "Hf_Hub_Offline" not in env
    assert env["ANONYMIZED_TELEMETRY"] == "False"
    assert overridden["anonymized_telemetry"] == "True"


def test_the_libraries_themselves_read_offline_from_a_hostile_environment() -> None:
    # What the installed huggingface_hub, transformers and chromadb actually conclude, after
    # the entry point forced the environment over one that asks for the hub and telemetry.
    code = ("import sys, os; from desktop.egress.offline import force_offline_environment;"
            "force_offline_environment();"
            "import huggingface_hub.constants as c; from chromadb.config import Settings;"
            "from transformers.integrations import hub_kernels as k; s = Settings();"
            "print(c.HF_HUB_OFFLINE, c.HF_HUB_DISABLE_TELEMETRY, c.ENDPOINT,"
            " s.anonymized_telemetry, s.chroma_otel_granularity,"
            # transformers 5.24 kept a flag; 5.25 reads the variable when asked.
            " k._kernels_enabled() if callable(k._kernels_enabled) else k._kernels_enabled)")
    env = dict(os.environ, HF_HUB_OFFLINE="0", TRANSFORMERS_OFFLINE="0", DO_NOT_TRACK="0",
               HF_HUB_DISABLE_TELEMETRY="0", ANONYMIZED_TELEMETRY="True",
               CHROMA_OTEL_GRANULARITY="all", HUGGINGFACE_CO_STAGING="1",
               USE_HUB_KERNELS="YES", HTTPS_PROXY="http://proxy.invalid:3128")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "True", "http://127.0.0.1:9", "False", "none", "False"]
