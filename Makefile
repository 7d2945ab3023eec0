# PortalKit developer targets. `make test` is the README's test command and
# what .ci/run calls.
GO ?= go
TESTFLAGS ?= -count=1 -timeout 25m
PKGS ?= ./...

.PHONY: run test test-sqlite test-postgres bench lint build clean fuzz

## run: start the portal on embedded defaults with demo data
run:
	$(GO) run ./cmd/portal serve --demo

## build: build bin/portal
build:
	$(GO) build -o bin/portal ./cmd/portal

## test: every suite on SQLite, then on PostgreSQL (PORTAL_TEST_DATABASE_URL)
test: test-sqlite test-postgres

test-sqlite:
	PORTAL_TEST_DB=sqlite $(GO) test $(TESTFLAGS) $(PKGS)

test-postgres:
	@if [ -n "$$PORTAL_TEST_DATABASE_URL" ] || [ "$$PORTAL_REQUIRE_SERVICES" = 1 ]; then \
		echo "PORTAL_TEST_DB=postgres $(GO) test $(TESTFLAGS) $(PKGS)"; \
		PORTAL_TEST_DB=postgres $(GO) test $(TESTFLAGS) $(PKGS); \
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

## lint: formatting, vet and staticcheck as CI runs them
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

clean:
	rm -rf bin data
