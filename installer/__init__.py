"""Offline installation of Enclave on isolated workstations.

``bundle`` builds the offline bundle on a connected machine; ``install_main`` (shipped in the
bundle as ``install.py``) installs it with no network; ``doctor`` checks an installation. The
modules the bundle carries (``manifest``, ``steplog``, ``install_options``, ``deploy``,
``install_main``) use the standard library only, so the target's own python3 can run them.
"""
