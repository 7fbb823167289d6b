from __future__ import annotations

import os
import subprocess
import sys

from desktop.offline import FORCED, force_offline_environment


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
