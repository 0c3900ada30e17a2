# The two commands of the README: `make up` (whole platform with demo data) and `make test` (every test).
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help up down test bench chaos

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

up: ## install what is missing, start Kafka and the five services on SQLite, load demo data, print the URLs
	@bash scripts/up.sh

down: ## stop everything `make up` started
	@bash scripts/down.sh

test: ## install everything, start Kafka and PostgreSQL, run lint, type checks and every test, stop what was started
	@bash scripts/test.sh

bench: ## run every benchmark against local Kafka and PostgreSQL (QUICK=1 for a smoke run; see BENCHMARKS.md)
	@bash scripts/bench.sh

chaos: ## kill relays, consumers, an API, Kafka and PostgreSQL under a scripted load; check nothing is lost (QUICK=1: short)
	@bash scripts/chaos.sh
