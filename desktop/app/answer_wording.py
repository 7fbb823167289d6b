"""How long things took, in words a clinician or a lawyer reads at a glance (Qt-free).

"Tokens" mean nothing to them; the exact figures stay available, for IT, in a tooltip.
"""

from __future__ import annotations

from typing import Any


def elapsed_words(seconds: float) -> str:
    """'4 s', '2 min 49 s', '1 h 3 min'."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, rest = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _rate_words(words: int, seconds: float) -> str:
    rate = words / seconds
    if rate >= 1.95:
        return f"about {round(rate)} words a second"
    if rate >= 0.95:
        return "about 1 word a second"
    if rate >= 0.1:
        return f"about {rate:.1f} words a second"
    return f"about one word every {elapsed_words(seconds / words)}"


def stats_words(text: str, stats: dict[str, Any]) -> str:
    """'Written in 2 min 49 s · about 0.3 words a second'."""
    seconds = float(stats.get("seconds") or 0.0)
    words = len(text.split())
    if seconds < 1:
        return "Written in under a second"
    written = f"Written in {elapsed_words(seconds)}"
    return f"{written} · {_rate_words(words, seconds)}" if words else written


def stats_tooltip(stats: dict[str, Any]) -> str:
    """The exact figures, for IT."""
    lines = [f"{stats.get('completion_tokens', 0)} tokens in {float(stats.get('seconds') or 0):.1f}"
             f" s ({float(stats.get('tokens_per_second') or 0):.2f} tokens/s)"]
    if stats.get("prompt_tokens"):
        lines.append(f"Prompt: {stats['prompt_tokens']} tokens; first token after "
                     f"{float(stats.get('time_to_first_token') or 0):.1f} s")
    if stats.get("model"):
        lines.append(f"Model: {stats['model']}")
    return "\n".join(lines)
