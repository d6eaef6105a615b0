# Sourced by the scripts in .ci/: a build cache outside the clone, so repeat runs are quick.
# cargo-leptos debug builds use `--cfg erase_components`; plain cargo commands use the same flags
# so that they reuse its artifacts instead of rebuilding everything.
#
# One cache per checkout (named after its directory), never shared: cargo names a workspace's own
# crates by their path *relative to the workspace* and judges them fresh by mtime, so a second
# checkout building into the same directory silently hands its crates to the first.
export PATH="$HOME/.cargo/bin:$PATH"
_fleetdeck_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/fleetdeck/target-$(basename "$_fleetdeck_root")}"
unset _fleetdeck_root
export DEV_RUSTFLAGS="--cfg erase_components"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Incremental caches only pay off while editing; in CI they would just fill the disk.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi
