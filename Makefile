# The two commands of the README, and the set-up they share.
#   make demo   — train/render a small version of every topic into gallery/ (offline is fine)
#   make test   — the package tests, then every notebook executed in fast mode (what CI runs)
# Both create .venv and install what they need; run them again and they skip what is done.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
export KERAS_BACKEND := tensorflow

.PHONY: demo test setup dataset clean

demo: setup
	$(PY) -m artlib demo --out gallery --force

test: setup
	ARTLIB_OFFLINE=1 ARTLIB_FAST=1 $(PY) -m pytest -q -p no:cacheprovider --nbmake tests notebooks

setup: $(VENV)/.installed dataset

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Optional: the full Fashion-MNIST from Debian, where apt is usable as root. Never required:
# without it artlib uses the Keras cache, a download, or the subset shipped in data/.
dataset:
	@bash scripts/install-dataset.sh

clean:
	rm -rf $(VENV) gallery .pytest_cache
