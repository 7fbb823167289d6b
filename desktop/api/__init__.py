"""The local API: Enclave's model, embedder and grounded answers for other programs on this
computer, in OpenAI's wire format, on 127.0.0.1 only, with a token. Qt-free; the CLI
(``enclave serve``) and the window start the same server (server.py)."""
