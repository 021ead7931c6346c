# oemsync: the two set-up commands are `make demo` and `make test` (see README.md).
.PHONY: demo test bench bench-rest bench-validators bench-daemon bench-soap bench-latency build check clean

demo:
	scripts/demo

test:
	scripts/test

bench:
	scripts/bench

bench-rest:
	scripts/bench-rest

bench-soap:
	scripts/bench-soap

bench-daemon:
	scripts/bench-daemon

bench-latency:
	scripts/bench-latency

bench-validators:
	scripts/bench-validators

build:
	swift build

clean:
	rm -rf .build .demo .bench
