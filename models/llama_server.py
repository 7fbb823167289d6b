"""llama.cpp's OpenAI-compatible server (llama-cpp-python's ``llama_cpp.server``) on
Enclave's portable llama.cpp build, for a practice's own model server and for the tests.

The portable build loads its CPU kernels at run time, and the server as shipped never loads
them ("no backends are loaded"); a processor's best-scoring variant may also promise
instructions the system refuses. So this launcher runs Enclave's engine self-test first, loads
the variant that passed, then serves. It listens where it is told (127.0.0.1 unless IT says
otherwise) and makes no outbound connection.

    python -m models.llama_server --model /srv/models/model.gguf --port 8080 \
        --api-key-file /etc/enclave/token [--ssl-certfile cert.pem --ssl-keyfile key.pem]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.llama_server",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="the GGUF file (absolute)")
    parser.add_argument("--alias", default=None,
                        help="the model's name in the API (default: the file name)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--gpu-layers", type=int, default=-1)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--api-key-file", type=Path, default=None,
                        help="a file holding the bearer token clients must send")
    parser.add_argument("--ssl-certfile", type=Path, default=None)
    parser.add_argument("--ssl-keyfile", type=Path, default=None)
    parser.add_argument("--engine-cache", type=Path, default=None,
                        help="where the engine self-test's pass is remembered")
    args = parser.parse_args(argv)

    from models.engine_selftest import SelfTestOptions, check_engine, checked_engine
    from models.errors import ModelError
    from models.llama_backends import load_backends
    from models.llama_runtime import check_model_file, default_threads

    model = args.model.expanduser().resolve()
    try:
        check_model_file(model)
        options = SelfTestOptions(gpu_layers=args.gpu_layers, threads=args.threads)
        engine = (checked_engine(model, options, args.engine_cache) if args.engine_cache
                  else check_engine(model, options))
        if not engine.ok:
            raise ModelError(engine.message)
        load_backends(engine.cpu_variant)
        api_key = (args.api_key_file.read_text(encoding="utf-8").strip()
                   if args.api_key_file else None)
    except (ModelError, OSError) as exc:
        print(f"llama_server: {exc}", file=sys.stderr)
        return 2

    import uvicorn
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    # interrupt_requests=False: a second workstation's question waits its turn; by default
    # llama-cpp-python cuts the answer in progress short for it (seen: an empty answer).
    server = ServerSettings(host=args.host, port=args.port, api_key=api_key or None,
                            interrupt_requests=False,
                            ssl_certfile=str(args.ssl_certfile) if args.ssl_certfile else None,
                            ssl_keyfile=str(args.ssl_keyfile) if args.ssl_keyfile else None)
    served = ModelSettings(model=str(model), model_alias=args.alias or model.name,
                           n_ctx=args.n_ctx, n_gpu_layers=args.gpu_layers,
                           # Enclave's rule, not llama-cpp-python's half of the logical CPUs
                           # (one thread of two here: 0.67x the in-process decode, measured).
                           n_threads=args.threads or default_threads(),
                           verbose=False)
    app = create_app(server_settings=server, model_settings=[served])
    uvicorn.run(app, host=args.host, port=args.port, ssl_keyfile=server.ssl_keyfile,
                ssl_certfile=server.ssl_certfile, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
