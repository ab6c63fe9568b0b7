"""What the class got wrong: the instructor's insights report after ``grader autograde``.

    python -m grader insights [--assignment A] [--out DIR]

From the gradebook, the autograded notebooks, the hand-ins and ``grader/report.csv``, one
self-contained HTML page per assignment plus an index, readable offline (no JavaScript, no
network; plots inline), and the same numbers as CSV and JSON, under ``grader/reports/insights/``:

- ``grader.insights.collect``  read a graded class: each hand-in's points, what became of each
                               graded part and the failure's message, its flags and answer code.
- ``grader.insights.tally``    count it: score distribution, pass rates, the named mistakes
                               ranked by how many students made them, parts nobody or everybody passes.
- ``grader.insights.similar``  pairs of hand-ins much more alike than the class as a whole
                               (copydetect's winnowing, the template's code removed).
- ``grader.insights.figures``  the plots (matplotlib, inline PNG).
- ``grader.insights.report``   the pages, the CSV and JSON files, and the command line's summary.

It is the instructor's page, with students' names: nothing of it goes into a student's feedback.
A flag is a reason to look at a hand-in, never a penalty; points never depend on it.
"""

DEFAULT_OUT = ("grader", "reports", "insights")   # under the course root
