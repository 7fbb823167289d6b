"""Benchmarks: Enclave measured against the raw engines it stands on, side by side, as ratios.

``bench`` sits above the application (it drives the model thread, the library and the window
the way a user does), so nothing in ``desktop``, ``rag`` or ``models`` imports it except the
``enclave bench`` command. Heavy libraries are imported inside functions.
"""
