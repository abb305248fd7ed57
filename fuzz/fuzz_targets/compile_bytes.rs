//! Fuzz target: any bytes through `compile_bytes` and, when they compile,
//! through both emitters. It must never panic, overflow the stack or hang
//! (libFuzzer's `-timeout=` catches slow inputs).
//!
//! Run with `cargo +nightly fuzz run compile_bytes -- -timeout=2` from
//! this directory; seed the corpus with `cp ../tests/corpus/*/*.kdl
//! ../examples/*/devctl.kdl corpus/compile_bytes/`.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = devctl_compiler::compile_bytes(data, Path::new("/fuzz/project/devctl.kdl")) {
        let _ = devctl_compiler::emit_devctl(&c);
        let _ = devctl_compiler::emit_systemd(&c, Path::new("/usr/local/bin/devctl"));
    }
});
