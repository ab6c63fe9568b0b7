"""nbgrader preprocessors that the course adds to nbgrader's pipeline (see nbgrader_config.py)."""

from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests

HIDDEN_NOTE = "# (hidden tests ran here; their messages are in the output below)"


class HideHiddenTests(ClearHiddenTests):
    """Feedback without the hidden tests: nbgrader's feedback shows them, this removes them.

    In each test cell, the hidden region is replaced by a one-line note, and an error's
    traceback (which quotes the failing line, hidden or not) is cut to its message. The
    messages of the course's checks say what was wrong without showing test code.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        if utils.is_grade(cell) and cell.cell_type == "code":
            if self._remove_hidden_test_region(cell):
                cell.source = cell.source.rstrip("\n") + "\n" + HIDDEN_NOTE
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
