# The course's commands. Each one creates .venv from the pinned requirements on first use.
#   make lab     JupyterLab on the course (students, instructors)
#   make test    the whole test suite (what CI runs)
#   make grade   the instructor's pipeline on the example class in grader/submitted/
#   make bench   the speed benchmarks in bench/, with their figures

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# nbgrader runs helper scripts of its environment (alembic) by name.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: lab test grade bench release examples clean

$(VENV)/.installed: requirements.txt constraints.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

lab: $(VENV)/.installed
	$(VENV)/bin/jupyter lab

test: $(VENV)/.installed
	$(PY) -m pytest -n 2 --dist loadgroup

grade: $(VENV)/.installed
	$(PY) -m grader release
	$(PY) -m grader autograde
	$(PY) -m grader feedback
	$(PY) -m grader grades

# Every benchmark runs and prints its figures; the command fails at the end if one missed a target.
bench: $(VENV)/.installed
	status=0; for script in bench/[!_]*.py; do $(PY) $$script || status=1; done; exit $$status

release: $(VENV)/.installed
	$(PY) -m grader release

examples: $(VENV)/.installed
	$(PY) -m grader examples

clean:
	$(PY) -m grader clean
