# Sourced by the scripts in .ci/: one build cache outside the clone, shared by every checkout, so
# repeat runs are quick. cargo-leptos debug builds use `--cfg erase_components`; plain cargo
# commands use the same flags so that they reuse its artifacts instead of rebuilding everything.
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/fleetdeck/target}"
export DEV_RUSTFLAGS="--cfg erase_components"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Incremental caches only pay off while editing; in CI they would just fill the disk.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi
