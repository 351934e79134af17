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
# process or a socket rather than the CPU, so four beat two on this 2-core machine.
# Two files of slow tests only are not even collected: the schemathesis fuzz builds the app
# and its cases at collection (4 s in every worker), the day test imports the kiosk runtime.
# Prints its wall time at the end.
test-fast: setup
	GOVHALL_HYPOTHESIS_PROFILE=fast GOVHALL_TEST_POSTGRES=off \
	  bash scripts/test.sh -q -n 4 --dist worksteal -m "not gui and not e2e and not slow and not postgres" \
	  --ignore=tests/e2e --ignore=tests/hall/test_fuzz_openapi.py

lint: setup
	bash scripts/lint.sh

format: setup
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

bench: setup
	for b in bench/*.py; do .venv/bin/python $$b || exit 1; done
