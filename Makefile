# `make demo` and `make test` bootstrap llama.cpp and the demo model into ~/.cache/cje-prep
# (or $CJE_CACHE) on first use, then reuse them.
SWIFT_BUILD_FLAGS = -c release -Xlinker -rpath -Xlinker "$$LLAMA_PREFIX/lib"
ENV = scripts/with-env.sh
# The tests, benchmarks and the model matrix also use llama.cpp's tools (llama-server,
# llama-bench, llama-quantize); the demo and a run need the libraries only.
TOOLS_ENV = CJE_LLAMA_TOOLS=1 scripts/with-env.sh
# The fast tier's test targets: stage logic on a deterministic fake engine and fake providers,
# config, storage, parsing, sampling, the Hub and datasets-server clients against local stand-ins.
# No model, and nothing calls llama.cpp.
FAST_TIER = CJEPipelineTests|CJEInferenceTests|CJEHubTests

.PHONY: build demo engine-demo check test integration integration-scripts bench matrix-bench scale-bench lint dist wheel image

# cje-prep alone (the tests' build adds the test targets, the example and the scale benchmark).
build:
	$(ENV) bash -c 'swift build $(SWIFT_BUILD_FLAGS) --product cje-prep'

# The whole pipeline on 5 built-in prompts into ./data-run (run again: it resumes, redoing nothing).
demo: build
	$(ENV) .build/release/cje-prep run 5 --dir ./data-run

# The engine alone: generation, teacher forcing and the determinism checks on a few prompts.
engine-demo: build
	$(ENV) bash -c '.build/release/cje-prep demo --model "$$CJE_MODEL"'

# The fast tier alone. Building needs llama.cpp's headers (bootstrapped without the model); the
# tests run with CJE_MODEL unset, so nothing in them can reach the real model.
check:
	CJE_BOOTSTRAP=llama-env $(ENV) bash -c 'swift build $(SWIFT_BUILD_FLAGS) --build-tests && env -u CJE_MODEL swift test $(SWIFT_BUILD_FLAGS) --skip-build --disable-xctest --filter "$(FAST_TIER)"'

# Lint, both tiers (the real-model suites must run: a missing model fails instead of skipping),
# then the tests that are scripts (they drive processes, schedulers and emulators): cje-eval 0.3.0
# and 0.9.3 (PyPI) read our export unchanged, and 0.9.3 analyses a paired-design bundle with probes
# at 1 and 2 draws through its own analyze.py; hosted and mixed runs on real llama-servers are
# Direct mode, and teacher forcing over token ids on a vLLM stand-in equals the engine's; shards merged (also under a real Slurm, and for
# every label design with the oracle in the shards) are the unsplit run byte for byte; the portable build gives the same bits on an emulated Haswell; a run
# stopped by SIGTERM/SIGINT/SIGKILL or a full disk resumes to the undisturbed run byte for byte; a
# run's report page renders in headless chromium with every chart, no console error, no request;
# chat templates render as transformers renders them; every accepted tensor type and another
# architecture keep the determinism contract, and an unverified type is refused; the `make dist`
# bundle runs in a chroot of a minimal Debian without Swift, and the container image built from
# it with buildah runs, both giving the host's data files byte for byte.
test: lint
	$(TOOLS_ENV) bash -c 'Tests/Integration/prepare.sh start && swift build $(SWIFT_BUILD_FLAGS) --build-tests && CJE_REQUIRE_REAL_MODEL=1 swift test $(SWIFT_BUILD_FLAGS) --skip-build --disable-xctest'
	$(MAKE) --no-print-directory integration-scripts

integration: build integration-scripts

# prepare.sh: the packages, PyPI environments and model files the scripts use (`make test` starts
# it in the background before the Swift build; here it is waited for, or done when not started).
integration-scripts:
	$(TOOLS_ENV) Tests/Integration/prepare.sh wait
	$(TOOLS_ENV) Tests/Integration/cje-eval-check.sh .build/release/cje-prep
	$(TOOLS_ENV) Tests/Integration/publish-check.sh .build/release/cje-prep
	$(TOOLS_ENV) Tests/Integration/hosted-check.sh .build/release/cje-prep
	$(TOOLS_ENV) Tests/Integration/bench-check.sh .build/release/cje-prep
	$(TOOLS_ENV) Tests/Integration/shards-check.sh .build/release/cje-prep
	$(TOOLS_ENV) Tests/Integration/portable-check.sh .build/release/cje-prep
	$(TOOLS_ENV) Tests/Integration/reliability-check.sh .build/release/cje-prep
	$(TOOLS_ENV) Tests/Integration/report-check.sh .build/release/cje-prep
	$(TOOLS_ENV) Tests/Integration/hub-check.sh .build/release/cje-prep
	$(TOOLS_ENV) Tests/Integration/template-check.sh .build/release/cje-prep
	$(TOOLS_ENV) Tests/Integration/model-matrix.sh .build/release/cje-prep
	$(TOOLS_ENV) bash -c 'host=$$(mktemp -d) && trap "rm -rf $$host" EXIT && export CHECK_HOST_RUN=$$host/run && bundle=$$(scripts/dist.sh) && Tests/Integration/bundle-check.sh "$$bundle" .build/release/cje-prep && Tests/Integration/image-check.sh "$$bundle" .build/release/cje-prep && wheel=$$(scripts/wheel.sh "$$bundle") && Tests/Integration/wheel-check.sh "$$wheel" .build/release/cje-prep'

# dist/cje-prep-<version>-linux-<arch>.tar.gz: the binary with the Swift runtime linked in and
# llama.cpp's libraries beside it; runs where there is no Swift (scripts/dist.sh).
dist:
	$(ENV) scripts/dist.sh

# dist/cje_prep-<version>-py3-none-manylinux_2_<N>_<arch>.whl: the bundle as a Python wheel
# (`pip install` it: a `cje-prep` command and `python -m cje_prep`; scripts/wheel.sh).
wheel:
	$(ENV) bash -c 'scripts/wheel.sh "$$(scripts/dist.sh)"'

# The container image of deploy/container/Containerfile from the bundle (podman, buildah or docker).
image:
	scripts/image.sh "$$($(ENV) scripts/dist.sh)"

# The engine beside llama.cpp's own tools in one run (three rounds, medians): teacher forcing
# beside llama-perplexity of the same library and a stock llama-bench pp512 (default flags, built
# once into the cache), generation at 1, 8 and 32 sequences beside llama-batched-bench's S_TG and
# the stock tg128, the judge; ratios, peak memory, the share of time outside llama_decode.
bench: build
	$(TOOLS_ENV) bash -c '.build/release/cje-prep bench --model "$$CJE_MODEL" --llama-tools "$$(scripts/bootstrap.sh bench-tools)/bin" --stock-llama-bench "$$(scripts/bootstrap.sh stock-bench)"'

# The demo model and one model of each kernel family of the model matrix: teacher forcing beside
# llama-perplexity and 32-sequence generation beside llama-batched-bench, the same library, with
# ratios; BEFORE=<cje-prep binary> measures another build beside.
matrix-bench: build
	$(TOOLS_ENV) scripts/matrix-bench.sh .build/release/cje-prep

# The pipeline's own overhead (stages, journals, outputs, validate) at 1,000 and 10,000 prompts
# on the fake engine, and of a hosted run of 10,000 prompts x 5 policies (+ judge, oracle) against
# an in-process endpoint that answers at once, 64 requests in flight: seconds and peak memory, each
# in its own process.
scale-bench:
	CJE_BOOTSTRAP=llama-env $(ENV) bash -c 'swift build $(SWIFT_BUILD_FLAGS) --product cje-prep-scale && for n in 1000 10000; do .build/release/cje-prep-scale $$n; done && .build/release/cje-prep-scale hosted 10000'

lint:
	swift format lint --strict -r Sources Tests Examples Package.swift
