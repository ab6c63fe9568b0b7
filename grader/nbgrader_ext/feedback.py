"""The summary that opens a student's feedback page: total points, then every graded part with
its points and status (passed, failed, timed out, not run), linked to the part.

nbgrader renders feedback from the autograded notebook through nbconvert's HTML exporter and its
own ``feedback`` template. The course extends both through nbgrader's configuration
(``nbgrader_config.py``), without replacing any of nbgrader's converters:

- :class:`FeedbackSummary`, last in ``GenerateFeedback.preprocessors``, reads the gradebook and
  puts the summary into the exporter's resources (``resources["mlp_summary"]``), plus the
  page's stylesheet into the CSS that nbgrader's template inlines;
- :data:`TEMPLATE` (``GenerateFeedback.HTMLExporter.template_file``) extends nbgrader's
  feedback template: the summary at the top of the page, each graded cell marked with its
  grade id (the summary's links lead there) and, when it lost points, followed by the course's
  message on it unless the cell's own output already says it;
- :class:`FeedbackExporter` (``GenerateFeedback.exporter_class``), nbconvert's HTML exporter
  whose Markdown turns each formula (``$...$``, ``$$...$$``, ``\\begin{...}``) into MathML when
  the page is made, which browsers draw by themselves. nbgrader's page would load MathJax from
  a CDN instead, and a page opened offline (a lab without internet, a page saved for later)
  would show raw LaTeX; the template drops that script, so the page loads nothing from
  another host.

Statuses and messages are :mod:`grader.score`'s, the same words ``grader score`` prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from pathlib import Path

from jinja2 import pass_context
from latex2mathml.converter import convert as latex_to_mathml
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from grader import score
from grader.cells import grade_id

TEMPLATE = str(Path(__file__).parent / "templates" / "feedback.html.j2")
ALIGNED = re.compile(r"\\(begin|end)\{aligned\}")  # amsmath's environment, which latex2mathml lacks
STYLESHEET = Path(__file__).parent / "templates" / "feedback.css"


@dataclass(frozen=True)
class Part:
    """One graded part of a notebook as its feedback page reports it."""

    grade_id: str
    score: float
    max_score: float
    status: str  # one of score.PASSED, FAILED, TIMED_OUT, NOT_RUN
    message: str  # the course's message on it ("passed" when it passed)
    in_notebook: bool  # False when the student deleted its cell
    in_output: bool  # whether the cell's own error output already says the message

    @property
    def headline(self) -> str:
        """The first line of the message: what the summary's row shows."""
        return next(iter(self.message.splitlines()), "")


def parts(cells, grades: dict[str, tuple[float, float]]) -> list[Part]:
    """The graded parts of a notebook: those of ``cells`` in notebook order, then any whose
    cell is gone (deleted by the student), in ``grades`` order.

    ``grades`` maps each grade id to its ``(score, max_score)`` from the gradebook, which knows
    every graded cell of the source notebook, deleted or not.
    """
    present = {grade_id(cell): cell for cell in cells if grade_id(cell) in grades}
    order = list(present) + [name for name in grades if name not in present]
    found = []
    for name in order:
        cell = present.get(name)
        points, maximum = grades[name]
        message = score.message(cell, points, maximum)
        found.append(Part(name, points, maximum, score.status(cell, points, maximum), message,
                          in_notebook=cell is not None, in_output=_says(cell, message)))
    return found


def _says(cell, message: str) -> bool:
    """Whether ``cell``'s error outputs already show ``message`` (a check's failure does; a
    timeout or an unanswered exercise shows only an exception's name)."""
    if cell is None or not message:
        return False
    said = "\n".join(o.get("evalue", "") for o in cell.get("outputs", []) if o.output_type == "error")
    return message in said


class FeedbackSummary(NbGraderPreprocessor):
    """Put the feedback page's summary into ``resources["mlp_summary"]`` for the template.

    Runs after nbgrader's ``GetGrades`` (whose totals, late penalty included, it reuses) and
    after ``CSSHTMLHeaderPreprocessor`` (which resets the inlined CSS it adds to).
    """

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            submission = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
            grades = {g.name: (float(g.score), float(g.max_score)) for g in submission.grades}
        found = parts(nb.cells, grades)
        resources["mlp_summary"] = {
            "parts": found,
            "by_id": {part.grade_id: part for part in found},
            "score": float(info["score"]),
            "max_score": float(info["max_score"]),
            "late_penalty": float(info.get("late_penalty") or 0),
        }
        resources.setdefault("inlining", {}).setdefault("css", []).append(STYLESHEET.read_text())
        return nb, resources


def mathml(latex: str, display: str = "inline") -> str:
    """``latex`` (a formula without its ``$`` delimiters) as a MathML ``<math>`` element;
    ``display`` is ``"inline"`` or ``"block"``.

    A formula the converter cannot read (unbalanced braces) stays as its source, in a
    ``code.mlp-latex`` element: the page is still made, and says what was written.
    """
    # latex2mathml lacks amsmath's `aligned` (rows aligned at their `&`) and reads its `align*`,
    # which lays them out the same; otherwise each `&` would show as a symbol.
    latex = ALIGNED.sub(r"\\\1{align*}", latex)
    try:
        return latex_to_mathml(latex, display=display)
    except Exception:  # latex2mathml raises its own errors and IndexError alike on bad input
        return f'<code class="mlp-latex">{escape(latex)}</code>'


class MathMLRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer, with formulas as MathML rather than LaTeX left for MathJax."""

    def inline_math(self, body: str) -> str:
        return mathml(body, "inline")

    def block_math(self, body: str) -> str:
        return mathml(body, "block")

    def latex_environment(self, name: str, body: str) -> str:
        return mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", "block")


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter, whose ``markdown2html`` filter draws formulas as MathML."""

    @pass_context
    def markdown2html(self, context, source):
        """As :meth:`HTMLExporter.markdown2html` (same options), with :class:`MathMLRenderer`."""
        cell = context.get("cell", {})
        renderer = MathMLRenderer(
            escape=False,
            attachments=cell.get("attachments", {}),
            embed_images=self.embed_images,
            path=context.get("resources", {}).get("metadata", {}).get("path", ""),
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options,
        )
        return MarkdownWithMath(renderer=renderer).render(source)
