"""Zero-egress hardening of the process environment.

This is the one place where Enclave decides which environment variables keep the libraries it
stands on from reaching the network. It runs first thing at start-up (before torch, transformers,
sentence-transformers, chromadb or llama_cpp are imported, since several of them read these
variables at import time) and it *overrides* whatever the inherited environment says: a user or
an admin who exports ``HF_HUB_OFFLINE=0`` must not be able to turn a hub download back on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping

# Each entry: variable -> (forced value, why it is there).
FORCED: Mapping[str, tuple[str, str]] = {
    # huggingface_hub: never resolve, download or ping the hub (sentence-transformers, transformers
    # and tokenizers all go through it).
    "HF_HUB_OFFLINE": ("1", "huggingface_hub makes no HTTP call at all"),
    "TRANSFORMERS_OFFLINE": ("1", "transformers never looks up a model on the hub"),
    "HF_DATASETS_OFFLINE": ("1", "datasets, if ever imported, stays offline"),
    "HF_HUB_DISABLE_TELEMETRY": ("1", "no usage pings from huggingface_hub"),
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": ("1", "never send a stored token anywhere"),
    "HF_HUB_DISABLE_XET": ("1", "no Xet storage client"),
    # huggingface_hub 2.x checks PyPI/GitHub for CLI and skill updates unless this is set.
    "HF_HUB_DISABLE_UPDATE_CHECK": ("1", "no update check against the internet"),
    # If some code path ignored the offline switches, send it to a dead loopback port rather than
    # to the internet; the egress guard would block anything else anyway.
    "HF_ENDPOINT": ("http://127.0.0.1:9", "a hub URL that can only fail, and only locally"),
    "HF_INFERENCE_ENDPOINT": ("http://127.0.0.1:9", "no remote inference API, even by mistake"),
    # transformers 5 fetches compute kernels from the hub unless this is off ("YES" by default).
    "USE_HUB_KERNELS": ("NO", "transformers never downloads kernels from the hub"),
    # Some transformers paths run model code from the hub when this says so.
    "TRUST_REMOTE_CODE": ("False", "no model code fetched and run from the hub"),
    # Chroma: product telemetry off (>= 1.5.3 has none, belt and braces for older builds).
    "ANONYMIZED_TELEMETRY": ("False", "Chroma's anonymous usage telemetry off"),
    # Chroma reads its settings from the environment and from a ``.env`` file in the working
    # directory (pydantic-settings); variables win over the file, so these pin the telemetry
    # parts whatever a stray ``.env`` says. 1.5.9's Posthog class is a no-op.
    "CHROMA_PRODUCT_TELEMETRY_IMPL": ("chromadb.telemetry.product.posthog.Posthog",
                                      "Chroma's product telemetry stays the built-in no-op"),
    "CHROMA_TELEMETRY_IMPL": ("chromadb.telemetry.product.posthog.Posthog",
                              "the same, under its legacy name"),
    "CHROMA_OTEL_GRANULARITY": ("none", "Chroma creates no OpenTelemetry span exporter"),
    "CHROMA_OTEL_COLLECTION_ENDPOINT": ("", "and has no collector to send spans to"),
    # OpenTelemetry (a chromadb dependency): no SDK, no exporter.
    "OTEL_SDK_DISABLED": ("true", "the OpenTelemetry SDK does nothing"),
    "OTEL_TRACES_EXPORTER": ("none", "no trace exporter"),
    "OTEL_METRICS_EXPORTER": ("none", "no metrics exporter"),
    "OTEL_LOGS_EXPORTER": ("none", "no log exporter"),
    # Generic opt-outs that several ML libraries honour.
    "DO_NOT_TRACK": ("1", "the cross-tool 'do not track' convention"),
    "DISABLE_TELEMETRY": ("1", "honoured by several Python ML libraries"),
    "WANDB_MODE": ("disabled", "Weights & Biases, if present, stays off"),
    # No proxy auto-detection: no request is ever routed anywhere, loopback included.
    "NO_PROXY": ("*", "nothing goes through a proxy"),
    "no_proxy": ("*", "nothing goes through a proxy (lower-case spelling)"),
    # Quiet, deterministic tokenizers: no fork warnings in worker threads.
    "TOKENIZERS_PARALLELISM": ("false", "no tokenizers thread-pool fork warnings"),
}

# Removed outright: a proxy setting or a hub token inherited from the shell has no business here.
REMOVED: Mapping[str, str] = {
    "HTTP_PROXY": "no proxy",
    "HTTPS_PROXY": "no proxy",
    "ALL_PROXY": "no proxy",
    "http_proxy": "no proxy",
    "https_proxy": "no proxy",
    "all_proxy": "no proxy",
    "HF_TOKEN": "no hub credentials in the process",
    "HUGGING_FACE_HUB_TOKEN": "no hub credentials in the process",
    # huggingface_hub exchanges a CI identity token for a hub token over the network when these
    # are set; staging mode points the hub client at another host, ignoring HF_ENDPOINT.
    "HF_OIDC_RESOURCE": "no token exchange with the hub",
    "HF_OIDC_ID_TOKEN": "no token exchange with the hub",
    "HUGGINGFACE_CO_STAGING": "the hub endpoint stays the dead loopback one",
    # OpenTelemetry exporters would read these if anything created one.
    "OTEL_EXPORTER_OTLP_ENDPOINT": "no telemetry collector",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "no telemetry collector",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "no telemetry collector",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "no telemetry collector",
}

# Chroma's settings loader matches names without regard to case, so an inherited
# ``anonymized_telemetry=True`` next to the forced upper-case one would be a coin toss: other
# spellings of the names above are removed too.
_SPELLINGS = {name.upper() for name in (*FORCED, *REMOVED)}
_LISTED = set(FORCED) | set(REMOVED)


def force_offline_environment(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Force the offline settings into ``environ`` (``os.environ`` by default).

    Returns the variables whose inherited value was overridden or removed, so that a report can
    say what the environment had asked for.
    """
    env = os.environ if environ is None else environ
    overridden: dict[str, str] = {}
    for name, (value, _why) in FORCED.items():
        previous = env.get(name)
        if previous is not None and previous != value:
            overridden[name] = previous
        env[name] = value
    for name in REMOVED:
        if name in env:
            overridden[name] = env.pop(name)
    for name in [n for n in env if n.upper() in _SPELLINGS and n not in _LISTED]:
        overridden[name] = env.pop(name)
    return overridden
