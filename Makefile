# oemsync: the two set-up commands are `make demo` and `make test` (see README.md).
.PHONY: demo test bench bench-rest bench-validators build check clean

demo:
	scripts/demo

test:
	scripts/test

bench:
	scripts/bench

bench-rest:
	scripts/bench-rest

bench-validators:
	scripts/bench-validators

build:
	swift build

clean:
	rm -rf .build .demo .bench
