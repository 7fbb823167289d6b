"""What the offline bundle carries to run on a bare python3: verify the bundle, install it, with
no network and nothing of Enclave installed yet.

Standard library only, and nothing of Enclave outside this package (an import contract in
pyproject.toml and tests/installer/test_installer_is_stdlib_only.py keep it so).
"""
