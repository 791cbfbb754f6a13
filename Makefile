# The two everyday commands: `make run` starts the whole system locally, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install proto contracts check clean-data bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python requirements.txt libs/*/pyproject.toml services/*/pyproject.toml tools/*/pyproject.toml
	$(BIN)/pip install -q -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/sealflow up

test: install
	$(BIN)/python -m pytest

# Regenerates the committed gRPC code from proto/ (CI checks the tree stays clean afterwards).
proto: install
	$(BIN)/python -m grpc_tools.protoc -I proto --python_out=libs/contracts/src --pyi_out=libs/contracts/src \
		--grpc_python_out=libs/contracts/src proto/sealflow/signing/v1/verification.proto

# Regenerates the published API contracts (AsyncAPI per service, intake's OpenAPI) into contracts/;
# tests/unit/test_contracts.py fails when the committed files no longer match the code.
contracts: install
	$(BIN)/python -m sealflow_cli.contracts

# What CI checks before the tests: lint, format, and that the generated code (gRPC stubs, published
# contracts, NATS permissions) is what the sources produce — regenerated here, any difference fails.
GENERATED := libs/contracts/src/sealflow/signing contracts deploy/nats
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory proto contracts
	$(BIN)/python -m sealflow_cli.natsauth --write
	@if [ -n "$$(git status --porcelain -- $(GENERATED))" ]; then \
		git status --short -- $(GENERATED); git diff --stat -- $(GENERATED); \
		echo "generated code is out of date: run make proto contracts and python -m sealflow_cli.natsauth --write, then commit"; exit 1; fi

clean-data:
	rm -rf .sealflow

# The whole-flow benchmark against Temporal (bench/README.md); BENCH_ARGS="--matters 50" for a shorter run.
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)
