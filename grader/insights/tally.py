"""Count a graded class (``grader.insights.collect``): the score distribution, who handed in
what, grading time, and per graded part the pass rate, mean points and the mistakes ranked by
how many students made them, with their names.

Parts are counted over the hand-ins that answered something: a blank hand-in fails every part
and says nothing about what the class misunderstood (it is counted apart, as are hand-ins that
could not be graded). A part that timed out or did not run (the kernel died, the notebook's time
limit ran out first) was never reached: it is counted apart from the parts that failed.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from grader.insights.collect import BLANK, GRADED, UNGRADED, ClassResults, Found, HandIn, Part, first_line, is_unanswered
from grader.score import FAILED, NOT_RUN, PASSED, TIMED_OUT
from grader.screen import NOTE, REVIEW

NAMED, UNNAMED, UNANSWERED = "named", "no mistake named", "not answered"   # kinds of failure
# A part that at most this share of the class passes, or at least 1 - this share, is pointed out.
EXTREME_SHARE = 0.1
MAX_BINS = 20


@dataclass
class Mistake:
    """One reason parts failed, and who it was: a mistake the checks named, the first line of a
    message that names none, or code left unanswered."""

    text: str
    kind: str
    students: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.students)


@dataclass
class PartStats:
    """One graded part over the class."""

    part: Part
    answered: int          # hand-ins counted (graded, not blank)
    passed: int
    failed: int
    timed_out: int
    not_run: int
    mean_points: float | None
    mistakes: list[Mistake]    # most students first; named mistakes, then the others

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.answered if self.answered else None

    @property
    def never_reached(self) -> int:
        return self.timed_out + self.not_run

    @property
    def remark(self) -> str | None:
        """"nobody passes" and the like, when the teaching or the test may be at fault."""
        rate = self.pass_rate
        if rate is None or self.answered < 2:
            return None
        if self.passed == 0:
            return "nobody passes"
        if self.passed == self.answered:
            return "everybody passes"
        if rate <= EXTREME_SHARE:
            return "almost nobody passes"
        if rate >= 1 - EXTREME_SHARE:
            return "almost everybody passes"
        return None


@dataclass
class Summary:
    """The report on one assignment."""

    results: ClassResults
    parts: list[PartStats]
    mistakes: list[Mistake]      # named mistakes over all parts, most students first
    bins: list[tuple[float, float, int]]
    pairs: list = field(default_factory=list)          # grader.insights.similar.Pair, flagged ones
    similarity: object | None = None                   # grader.insights.similar.Comparison

    @property
    def assignment(self) -> str:
        return self.results.assignment

    def with_state(self, state: str) -> list[HandIn]:
        return [h for h in self.results.hand_ins if h.state == state]

    @property
    def counts(self) -> dict[str, int]:
        return {"graded": len(self.with_state(GRADED)), "blank": len(self.with_state(BLANK)),
                "not_graded": len(self.with_state(UNGRADED)), "not_submitted": len(self.results.not_submitted)}

    @property
    def scores(self) -> list[float]:
        """Points of every hand-in that was graded (blank ones included)."""
        return [h.score for h in self.results.hand_ins if h.state in (GRADED, BLANK) and h.score is not None]

    @property
    def mean_score(self) -> float | None:
        return statistics.fmean(self.scores) if self.scores else None

    @property
    def median_score(self) -> float | None:
        return statistics.median(self.scores) if self.scores else None

    @property
    def median_seconds(self) -> float | None:
        """Median grading time per notebook, from the batch report's seconds (None: not known)."""
        per_notebook = [h.seconds / max(1, len(self.results.notebooks)) for h in self.results.hand_ins
                        if h.seconds is not None]
        return statistics.median(per_notebook) if per_notebook else None

    def flags(self, level: str = REVIEW) -> list[tuple[str, Found]]:
        """``(student, found)`` for every flag of ``level``, by student."""
        return [(h.student, f) for h in self.results.hand_ins for f in h.flags if f.flag.level == level]

    @property
    def notes(self) -> list[tuple[str, Found]]:
        return self.flags(NOTE)


def summarise(results: ClassResults, similarity=None) -> Summary:
    """Count ``results``; ``similarity`` is ``grader.insights.similar.compare``'s answer, if run."""
    answered = [h for h in results.hand_ins if h.state == GRADED]
    parts = [_part(part, answered) for part in results.parts]
    return Summary(results, parts, _ranked_across(parts), histogram(
        [h.score for h in results.hand_ins if h.state in (GRADED, BLANK) and h.score is not None], results.max_score),
        pairs=list(similarity.flagged) if similarity else [], similarity=similarity)


def _part(part: Part, answered: list[HandIn]) -> PartStats:
    outcomes = [(h.student, o) for h in answered for o in h.outcomes
                if (o.notebook, o.part) == (part.notebook, part.grade_id)]
    tally = defaultdict(int)
    reasons: dict[tuple[str, str], Mistake] = {}
    for student, outcome in outcomes:
        tally[outcome.status] += 1
        if outcome.status != FAILED:
            continue
        found = [(text, NAMED) for text in outcome.mistakes] or [
            (outcome.message, UNANSWERED) if is_unanswered(outcome) else (first_line(outcome.message), UNNAMED)]
        for text, kind in found:
            mistake = reasons.setdefault((text, kind), Mistake(text, kind, parts=[part.grade_id]))
            if student not in mistake.students:
                mistake.students.append(student)
    points = [o.score for _, o in outcomes]
    return PartStats(part, len(outcomes), tally[PASSED], tally[FAILED], tally[TIMED_OUT], tally[NOT_RUN],
                     statistics.fmean(points) if points else None, rank(reasons.values()))


def rank(mistakes) -> list[Mistake]:
    """Named mistakes first, then the others; within each, most students first (then by text)."""
    order = {NAMED: 0, UNNAMED: 1, UNANSWERED: 2}
    return sorted(mistakes, key=lambda m: (order[m.kind], -m.count, m.text))


def _ranked_across(parts: list[PartStats]) -> list[Mistake]:
    """The named mistakes of the whole assignment (one sentence in several parts counted once per student)."""
    merged: dict[str, Mistake] = {}
    for stats in parts:
        for mistake in stats.mistakes:
            if mistake.kind != NAMED:
                continue
            total = merged.setdefault(mistake.text, Mistake(mistake.text, NAMED))
            total.students += [s for s in mistake.students if s not in total.students]
            total.parts += [p for p in mistake.parts if p not in total.parts]
    return rank(merged.values())


def histogram(scores: list[float], maximum: float) -> list[tuple[float, float, int]]:
    """``(from, to, hand-ins)`` per bin, ``from <= points < to``: one bin per point when the
    maximum is a small whole number (the last bin, ``[max, max + 1)``, holds full marks), else
    ``MAX_BINS`` equal bins over ``[0, max]``."""
    maximum = max(maximum, max(scores, default=0.0), 1.0)
    if float(maximum).is_integer() and maximum <= MAX_BINS:
        edges = np.arange(0.0, maximum + 2)
    else:
        edges = np.linspace(0.0, maximum, MAX_BINS + 1)
    numbers, edges = np.histogram(scores, bins=edges)
    return [(float(lo), float(hi), int(n)) for lo, hi, n in zip(edges[:-1], edges[1:], numbers)]
