# PortalKit developer targets. `make test` is the README's test command and
# what .ci/run calls.
GO ?= go
TESTFLAGS ?= -count=1 -timeout 25m
PKGS ?= ./...

.PHONY: docs docs-check run test test-sqlite test-postgres test-deploy test-cluster bench lint build clean fuzz api api-lint sdk sdk-test

## run: start the portal on embedded defaults with demo data
run:
	$(GO) run ./cmd/portal serve --demo

## build: build bin/portal
build:
	$(GO) build -o bin/portal ./cmd/portal

## test: every suite (the kit's and examples/, an integrator's own Go module) on SQLite, then on PostgreSQL (PORTAL_TEST_DATABASE_URL), and the deployment files
test: test-sqlite test-postgres test-deploy

test-sqlite:
	PORTAL_TEST_DB=sqlite $(GO) test $(TESTFLAGS) $(PKGS)
	cd examples && PORTAL_TEST_DB=sqlite $(GO) test $(TESTFLAGS) ./...

test-postgres:
	@if [ -n "$$PORTAL_TEST_DATABASE_URL" ] || [ "$$PORTAL_REQUIRE_SERVICES" = 1 ]; then \
		echo "PORTAL_TEST_DB=postgres $(GO) test $(TESTFLAGS) $(PKGS)"; \
		PORTAL_TEST_DB=postgres $(GO) test $(TESTFLAGS) $(PKGS) && \
		(cd examples && PORTAL_TEST_DB=postgres $(GO) test $(TESTFLAGS) ./...); \
	else \
		echo "*** SKIPPED: the PostgreSQL pass needs PORTAL_TEST_DATABASE_URL (bash .ci/run starts a throwaway server) ***"; \
	fi

## bench: Go benchmarks (see docs/PERFORMANCE.md for the load benchmarks)
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## fuzz: run every fuzz target briefly (FUZZTIME each); seeds in testdata/fuzz
# A count, not a duration: with a duration, go1.26's fuzz coordinator can
# report "context deadline exceeded" when the time runs out mid-execution
# (golang/go#75804, fixed in Go 1.27); a count has no deadline to race.
FUZZTIME ?= 20000x
fuzz:
	@for pkg in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for fz in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$fz"; \
			$(GO) test -run '^$$' -fuzz "^$$fz\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

## docs: copy the Go examples into the docs' code blocks from the files they name (embedmd)
EMBEDMD ?= $(GO) run github.com/campoy/embedmd@v1.0.0
docs:
	cd docs && $(EMBEDMD) -w *.md

## docs-check: fail when a docs code block differs from the compiled file it comes from
docs-check:
	@cd docs && $(EMBEDMD) -d *.md || { echo "docs/: a code block differs from its source file; run make docs"; exit 1; }

## api: refresh the committed OpenAPI document api/openapi.json from the
## code (review the diff; TestCommittedDocumentIsCurrent fails while stale)
api:
	$(GO) generate ./api

## sdk: regenerate the Go SDK's client and the TypeScript SDK's types from api/openapi.json (after make api; npm ci in sdk/typescript first)
sdk:
	cd sdk/go && $(GO) generate ./...
	cd sdk/typescript && npm run --silent generate

## sdk-test: the Go SDK module's own tests (its go.mod is separate)
sdk-test:
	cd sdk/go && $(GO) vet ./... && $(GO) test -count=1 ./...

## api-lint: Redocly's recommended rules on api/openapi.json (npm; 0 errors)
api-lint:
	cd api && npm ci --no-audit --no-fund --loglevel=error && npx redocly lint --extends=recommended openapi.json --format=summary

## test-deploy: the Dockerfile, compose cluster and Kubernetes manifests, read by their own tools (module deploy/)
test-deploy:
	cd deploy && $(GO) test $(TESTFLAGS) ./...

## test-cluster: two portal processes behind HAProxy on PostgreSQL and Mosquitto (docs/scaling.md)
test-cluster:
	PORTAL_TEST_CLUSTER=1 $(GO) test $(TESTFLAGS) -run TestCluster -v ./e2e/cluster/

## lint: formatting, vet and staticcheck as CI runs them
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	cd deploy && $(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

clean:
	rm -rf bin data
