# Two commands for a new user (see README): `make run` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint eval bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first and pinned: it comes from the machine's local CPU wheel (any other spec pulls CUDA builds).
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/gocluster-faq serve

lint: install
	$(BIN)/ruff check .

test: install lint
	$(BIN)/pytest -q
	$(BIN)/gocluster-faq eval --split test --gate --out var/eval-test

eval: install
	$(BIN)/gocluster-faq eval --out var/eval

bench: install
	$(BIN)/gocluster-faq bench --out var/bench

clean:
	rm -rf $(VENV) var
