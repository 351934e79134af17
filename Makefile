# Two commands matter: `make run` (the whole system on simulated devices) and `make test`.
.PHONY: setup run test test-fast lint format bench

setup:
	bash scripts/setup.sh

run: setup
	.venv/bin/govhall demo --config common/assets/hall.sample.toml

test: setup
	bash scripts/test.sh

# The inner loop: no GUI, end-to-end or slow tests, the storage tests on SQLite only (make test
# runs them on PostgreSQL too) and a few hypothesis examples per property
# (tests/support/examples.py), on four pytest-xdist workers: most tests wait on a child
# process or a socket rather than the CPU, so four beat two on this 2-core machine. The
# selection is scripts/test.sh's quick one, which make test runs first.
# Prints its wall time at the end.
test-fast: setup
	GOVHALL_HYPOTHESIS_PROFILE=fast GOVHALL_TEST_POSTGRES=off bash scripts/test.sh --quick

lint: setup
	bash scripts/lint.sh

format: setup
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

bench: setup
	for b in bench/*.py; do .venv/bin/python $$b || exit 1; done
