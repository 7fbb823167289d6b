"""Run in a fresh process by bench.startup: resident memory idle with the default model loaded.

Prints one JSON line. Loads exactly what the app loads, the way the app loads it.
"""

from __future__ import annotations

import gc
import json
import threading


def main() -> None:
    from desktop.egress import guard as egress_guard
    from desktop.egress.offline import force_offline_environment

    force_offline_environment()
    egress_guard.install()
    from bench.stats import rounded, rss_mib
    from desktop.app import wiring
    from desktop.app.settings import load_settings

    settings = load_settings()
    result = {"baseline_mib": rounded(rss_mib(), 1)}
    model_thread = wiring.start_model_thread(settings)
    model_thread.loaded.result()
    model_thread.submit(lambda _model: None).result()  # the thread is idle again
    gc.collect()
    result["model_loaded_mib"] = rounded(rss_mib(), 1)
    open_library = getattr(wiring, "open_library", None)
    if open_library is not None:
        library = open_library(settings)
        # The embedder and Chroma load on first use: one search makes them resident, as in the
        # app after its first question (the probe's ENCLAVE_HOME is a fresh temporary folder).
        library.create_collection(settings.collection)
        library.search("warm up", settings.collection, 1)
        gc.collect()
        result["model_and_library_mib"] = rounded(rss_mib(), 1)
    result["threads"] = threading.active_count()
    model_thread.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
