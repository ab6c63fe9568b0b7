"""Pairs of hand-ins whose answer cells are much more alike than the class as a whole.

With copydetect's fingerprints (the winnowing of Schleimer, Wilkerson and Aiken, SIGMOD 2003,
which MOSS uses) of each answer cell: the code is tokenised, names become placeholders (renaming
variables changes nothing, nor do comments or spacing), and every k-gram of the result is hashed.
Then, as MOSS does, what says nothing about copying is discounted:

- the template's k-grams (the release's own code in the answer cells) are removed;
- a k-gram that ``n`` hand-ins share counts ``1 / (n - 1)`` for each pair of them, and nothing
  when more than half the class has it: code that only two hand-ins have counts fully, the one
  obvious way to write a line that many students reach independently next to nothing.

A pair's score, ``shared``, is that weighted count, about the number of characters of tokenised
code the two have and the others do not. A pair is reported when it shares more than
``MIN_SHARED`` (several lines, more than one short function written alike) *and* far more than
pairs of this class usually do (above the third quartile plus three interquartile ranges of all
pairs), so that a small class of near-identical hand-ins flags nobody. The reported pairs are shown
cell by cell, the code they share marked. A pair is a reason to read two hand-ins, never a verdict.
"""

from __future__ import annotations

import copy
import html
import io
import itertools
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from copydetect import defaults
from copydetect.detector import CodeFingerprint, compare_files
from copydetect.utils import get_token_coverage, highlight_overlap

from grader.insights.collect import BLANK, ClassResults

NOISE = defaults.NOISE_THRESHOLD                      # k: the k-grams' length, in tokenised characters
WINDOW = defaults.GUARANTEE_THRESHOLD - NOISE + 1     # winnowing window (copydetect's default: 1, every k-gram)
MIN_SHARED = 150
# Marked in the side-by-side cells: code that at most this share of the class has (at least 3 hand-ins).
MARKED_SHARE = 0.2
MARK = ("<mark>", "</mark>")


@dataclass
class Cells:
    """Two hand-ins' versions of one answer cell, their shared code marked (HTML)."""

    notebook: str
    grade_id: str
    left: str
    right: str


@dataclass
class Pair:
    """Two hand-ins and what they share beyond the template and the class."""

    students: tuple[str, str]
    shared: int                           # weighted k-grams the two share (see the module's docstring)
    similarity: tuple[float, float]       # the share of each one's own k-grams that the other has too
    cells: list[Cells] = field(default_factory=list)   # for the reported pairs only


@dataclass
class Comparison:
    """Every pair compared, the threshold the flagged ones passed, and those."""

    hand_ins: int
    threshold: float
    pairs: list[Pair]
    flagged: list[Pair]


def compare(results: ClassResults) -> Comparison:
    """Compare every pair of hand-ins with code of their own (blank ones are left out)."""
    template = set().union(*(_fingerprint(code).hashes for code in results.templates.values()))
    prints = {}
    for hand_in in results.hand_ins:
        cells = {(a.notebook, a.grade_id): _fingerprint(a.source) for a in hand_in.answers}
        if hand_in.state != BLANK and any(fp.hashes - template for fp in cells.values()):
            prints[hand_in.student] = cells
    kgrams = {student: set().union(*(fp.hashes for fp in cells.values())) - template
              for student, cells in prints.items()}
    spread = Counter(h for found in kgrams.values() for h in found)   # in how many hand-ins each k-gram is
    most = max(2, len(prints) / 2)   # a k-gram that more hand-ins have is the class's, not a pair's
    pairs = []
    for a, b in itertools.combinations(prints, 2):
        common = kgrams[a] & kgrams[b]
        shared = sum(1 / (spread[h] - 1) for h in common if spread[h] <= most)
        pairs.append(Pair((a, b), round(shared), (len(common) / len(kgrams[a]), len(common) / len(kgrams[b]))))
    threshold = flag_threshold([p.shared for p in pairs])
    flagged = sorted((p for p in pairs if p.shared > threshold), key=lambda p: -p.shared)
    common_to_many = {h for h, n in spread.items() if n > max(3, MARKED_SHARE * len(prints))}
    for pair in flagged:
        a, b = pair.students
        pair.cells = _side_by_side(results, a, b, prints, template | common_to_many)
    return Comparison(len(prints), threshold, pairs, flagged)


def flag_threshold(shared: list[int]) -> float:
    """What a pair must share to be reported: more than ``MIN_SHARED`` and more than the class's
    third quartile plus three interquartile ranges (``inf`` when there is no pair)."""
    if not shared:
        return float("inf")
    q1, q3 = np.percentile(shared, [25, 75])
    return max(float(MIN_SHARED), float(q3 + 3 * (q3 - q1)))


def _fingerprint(code: str) -> CodeFingerprint:
    # copydetect tokenises by the file name's language; the code never touches the disk (fp=).
    return CodeFingerprint("answer.py", NOISE, WINDOW, language="python", fp=io.StringIO(code))


def _without(fingerprint: CodeFingerprint, ignored: set) -> CodeFingerprint:
    """``fingerprint`` without the ``ignored`` hashes. (copydetect's own ``boilerplate=`` assumes
    a document's k-grams are unique, and code repeats itself: it would keep some and drop others.)"""
    kept = copy.copy(fingerprint)
    kept.hash_idx = {h: i for h, i in fingerprint.hash_idx.items() if h not in ignored}
    kept.hashes = set(kept.hash_idx)
    kept.token_coverage = get_token_coverage(kept.hash_idx, NOISE, len(fingerprint.filtered_code))
    return kept


def _side_by_side(results: ClassResults, a: str, b: str, prints: dict, ignored: set) -> list[Cells]:
    """The answer cells of ``a`` and ``b`` that share code (not the template's, nor what many
    others wrote too), as HTML with that code marked, in the notebook's order."""
    sources = {h.student: {(x.notebook, x.grade_id): x.source for x in h.answers}
               for h in results.hand_ins if h.student in (a, b)}
    cells = []
    for key in (k for k in sources[a] if k in sources[b]):
        _, _, (left, right) = compare_files(_without(prints[a][key], ignored), _without(prints[b][key], ignored))
        if np.size(left):
            cells.append(Cells(*key, _marked(sources[a][key], left), _marked(sources[b][key], right)))
    return cells


def _marked(source: str, slices) -> str:
    """``source`` as HTML with ``slices`` (copydetect's ``2 x N`` starts and ends) marked."""
    slices = np.asarray(slices, dtype=int).reshape(2, -1)
    if not slices.size:
        return html.escape(source)
    return highlight_overlap(source, slices, *MARK, escape_html=True)[0]
