"""The desktop window (PySide6). The only package of Enclave that imports Qt."""
