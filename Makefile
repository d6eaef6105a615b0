# The two commands of the README, plus the pieces they are made of. Each target installs what it
# needs first (idempotently) via .ci/setup.sh.
.PHONY: run test release setup

run:    ## build (release) and run the embedded fleetdeck on http://127.0.0.1:3000
	bash .ci/serve.sh

test:   ## install the toolchain and run every check and test
	bash .ci/test.sh

release: ## release build with precompressed assets
	bash .ci/setup.sh && bash .ci/release.sh

setup:  ## install the build toolchain only
	bash .ci/setup.sh --test
