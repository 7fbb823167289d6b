"""The benchmark result as lines a person reads in a terminal."""

from __future__ import annotations

from typing import Any


def _target(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def summary_lines(result: dict[str, Any]) -> list[str]:
    lines = [f"Enclave benchmarks ({result['profile']}), "
             f"{result['environment']['cpus']} CPUs, load average at start "
             f"{result['environment']['load_average_at_start'][0]:.1f}"]
    g = result.get("generation", {})
    if g and "error" not in g:
        lines += [
            "Generation (same GGUF, greedy):",
            f"  decode ratio, token-interleaved: {g['decode_ratio']} "
            f"({_target(g['decode_ratio'] >= g['target_decode_ratio'])} >= "
            f"{g['target_decode_ratio']}); runs {g['runs_decode_ratio_interleaved']}",
            f"  decode, whole runs alternating: Enclave "
            f"{g['enclave']['decode_tokens_per_second']} tok/s, raw "
            f"{g['raw']['decode_tokens_per_second']} tok/s, ratio "
            f"{g['decode_ratio_alternating_runs']}",
            f"  time to first token: Enclave {g['enclave']['time_to_first_token_s']} s, raw "
            f"{g['raw']['time_to_first_token_s']} s ({g['enclave']['prompt_tokens']} prompt "
            "tokens)",
            f"  prompt processing: Enclave {g['enclave']['prompt_tokens_per_second']} tok/s, "
            f"raw {g['raw']['prompt_tokens_per_second']} tok/s; end-to-end ratio "
            f"{g['end_to_end_ratio']}",
        ]
    i = result.get("ingestion", {})
    if i and "error" not in i:
        lines += [
            f"Ingestion ({i['documents']} PDFs, {i['pages']} pages, {i['passages']} passages):",
            f"  Enclave {i['enclave_pages_per_second']} pages/s, raw embedder "
            f"{i['raw_pages_per_second']} pages/s, ratio {i['ratio']} "
            f"({_target(i['ratio'] >= i['target_ratio'])} >= {i['target_ratio']})",
            f"  re-ingest unchanged folder: {i['reingest_seconds']} s = "
            f"{i['reingest_share'] * 100:.2f}% of the first ingest "
            f"({_target(i['reingest_share'] <= i['target_reingest_share'])} <= 5%)",
        ]
    r = result.get("retrieval", {})
    if "error" not in r and r:
        lines.append(f"Retrieval, {r['embedding_backend']} with passages pooled from their "
                     f"windows against {r.get('reference_backend', 'the same engine')} with "
                     "passages embedded whole as well (before issue 18), hit@1 / hit@5:")
        for name, now in r["pooled"].items():
            if "questions" not in now:
                continue
            before, moved = r["whole"][name], r["questions_moved"][name]
            lines.append(f"  {name} ({now['questions']} questions): "
                         f"{now['hit@1']:.1%} / {now['hit@5']:.1%} against "
                         f"{before['hit@1']:.1%} / {before['hit@5']:.1%} "
                         f"(moved {moved['hit@1']:+d} / {moved['hit@5']:+d} questions)")
        lines.append(f"  every set within one question: {r['within_one_question']}; none "
                     f"lost more than one: {r.get('none_lost_more_than_one', 'n/a')}")
    s = result.get("search", {})
    if s and "error" not in s:
        lines.append("Hybrid search, warm (p50 / p95; of which query embedding p50):")
        for size in s["sizes"]:
            lines.append(f"  {size['passages']:>7} passages: {size['p50_ms']} / "
                         f"{size['p95_ms']} ms; embedding {size['embedding_p50_ms']} ms, "
                         f"index {size['index_p50_ms']} ms")
        threads = ", ".join(f"{k.split('_')[0]} thread(s) {v} ms"
                            for k, v in s["query_embedding_by_torch_threads"].items())
        lines.append(f"  one query's embedding by torch threads: {threads}")
    v = result.get("cpu_variants", {})
    if "error" not in v and v.get("available"):
        lines.append(f"llama.cpp CPU variants (decode tok/s; chosen by the self-test: "
                     f"{v['chosen']}, fastest measured: {v['fastest']}):")
        for name, r in v["variants"].items():
            mark = " <- chosen" if name == v["chosen"] else ""
            figure = r.get("decode_tokens_per_second", r.get("error"))
            lines.append(f"  {name:>15}: {figure}{mark}")
        if "chosen_vs_fastest" in v:
            lines.append(f"  chosen / fastest {v['chosen_vs_fastest']}; chosen / haswell "
                         f"(fixed AVX2 baseline) {v.get('chosen_vs_avx2_baseline', 'n/a')}")
    a = result.get("api", {})
    if a and "error" not in a:
        ask, api = a["enclave_ask"], a["api"]
        lines.append(f"Local API (streamed, OpenAI client) against enclave ask, model alone, "
                     f"{a['max_tokens']} tokens:")
        lines.append(f"  time to first token {api['time_to_first_token_s']} s vs "
                     f"{ask['time_to_first_token_s']} s ({a['ttft_overhead_ms']:+} ms); decode "
                     f"{api['decode_tokens_per_second']} vs {ask['decode_tokens_per_second']} "
                     f"tok/s (ratio {a['decode_ratio']})")
    m = result.get("model_server", {})
    if m and "error" not in m:
        alone, served, many = m["in_process"], m["server"], m["concurrent"]
        lines.append(f"Model server (llama.cpp's OpenAI-compatible server on 127.0.0.1) against "
                     f"the model in this process, {m['max_tokens']} tokens:")
        lines.append(f"  decode {served['tokens_per_second']} vs {alone['tokens_per_second']} "
                     f"tok/s (ratio {m['server_to_in_process_decode']}); time to first token "
                     f"{served['time_to_first_token']} s vs {alone['time_to_first_token']} s")
        lines.append(f"  {many['clients']} clients at once: {many['answers']} whole answers, "
                     f"wait p50 {many['wait_p50_seconds']} s, longest "
                     f"{many['wait_max_seconds']} s, {many['total_tokens_per_second']} tok/s "
                     "in all")
    x = result.get("index_servers", {})
    if x and "error" not in x:
        from bench.index_scale import describe

        lines.append("Shared index (PostgreSQL and Chroma's server on 127.0.0.1) beside "
                     "embedded mode:")
        lines.extend(f"  {line}" for line in describe(x))
    u = result.get("startup", {})
    if u and "error" not in u:
        if u.get("available"):
            lines.append(f"Start-up: window painted {u['window_painted_s']} s after launch "
                         f"(heavy modules before the window: "
                         f"{u['heavy_modules_before_window']})")
        else:
            lines.append(f"Start-up: not measured ({u.get('reason')})")
    m = result.get("memory", {})
    if m and "error" not in m:
        text = f"Memory (RSS): {m['baseline_mib']} MiB at start, {m['model_loaded_mib']} MiB " \
               "idle with the default model"
        if "model_and_library_mib" in m:
            text += f", {m['model_and_library_mib']} MiB with the document library open"
        lines.append(text)
    for name, value in result.items():
        if isinstance(value, dict) and "error" in value:
            lines.append(f"{name}: FAILED: {value['error']}")
    return lines
