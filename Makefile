# The developer entry points. `make help` lists them.
.PHONY: help generate rules lint breaking grpcurl test fuzz ci run emulator

help:
	@echo "make run       # directoryd --dev: the service against the built-in Procore emulator"
	@echo "make test      # go test -race ./... (the README's test command)"
	@echo "make generate  # regenerate gen/ from proto/ (installs pinned tools into .tools/), the Grafana dashboard and the PrometheusRule"
	@echo "make rules     # promtool check and unit tests of deploy/prometheus (Debian package prometheus)"
	@echo "make lint      # buf lint, gofmt, go vet"
	@echo "make breaking  # buf breaking (FILE rules) against every released API since the v1 promise"
	@echo "make grpcurl   # install grpcurl into .tools/bin (go install only, no npm)"
	@echo "make ci        # what CI runs: .ci/run"

generate:
	scripts/generate.sh

rules:
	cd deploy/prometheus && promtool check rules rules.yml && promtool test rules rules_test.yml

lint:
	scripts/tools.sh
	.tools/bin/buf lint
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/'))" || (gofmt -l $$(git ls-files '*.go' | grep -v '^gen/'); exit 1)
	go vet ./...

breaking:
	scripts/tools.sh
	scripts/breaking.sh

grpcurl:
	scripts/tools.sh grpcurl
	@echo 'grpcurl is .tools/bin/grpcurl; to run it by name: export PATH="$$PWD/.tools/bin:$$PATH"'

test:
	go test -race ./...

ci:
	bash .ci/run

run:
	go run ./cmd/directoryd --dev

emulator:
	go run ./cmd/procore-emulator --addr 127.0.0.1:8081
