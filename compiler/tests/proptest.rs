//! Property tests: arbitrary bytes and KDL-ish token soup never panic,
//! never hang, and each input is decided in well under a second (the
//! stable-toolchain counterpart of `fuzz/`). Whatever compiles also emits
//! in both formats.

use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;

const TOKENS: &[&str] = &[
    "service",
    "daemon",
    "build",
    "container",
    "kubernetes",
    "group",
    "project",
    "\"api\"",
    "\"db\"",
    "{",
    "}",
    "{",
    "}",
    "/-",
    "/-",
    ";",
    "\n",
    " ",
    "run",
    "sh",
    "\"x\"",
    "=",
    "#true",
    "#false",
    "#null",
    "ready",
    "alive",
    "tcp",
    "http",
    "\"http://127.0.0.1:1/\"",
    "8080",
    "70000",
    "-1",
    "1.5",
    "requires",
    "wants",
    "until=",
    "\"ready\"",
    "/*",
    "*/",
    "//",
    "\"\"\"",
    "#\"",
    "\"#",
    "(u8)",
    "env",
    "A=",
    "\"v\"",
    "period",
    "\"1s\"",
    "restart",
    "\"always\"",
    "stop",
    "signal=",
    "\"SIGINT\"",
    "units",
    "watch",
    "\"**\"",
    "\\",
    "\"\\n\"",
    "\"\\u{202e}\"",
    "pid-file",
    "start",
    "image",
    "publish",
];

fn check(bytes: &[u8]) {
    let start = Instant::now();
    let res = devctl_compiler::compile_bytes(bytes, Path::new("/prop/project/devctl.kdl"));
    if let Ok(c) = &res {
        let _ = devctl_compiler::emit_devctl(c);
        let _ = devctl_compiler::emit_systemd(c, Path::new("/usr/local/bin/devctl"));
    }
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "{took:?} for {:?}",
        String::from_utf8_lossy(bytes)
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check(&bytes);
    }

    #[test]
    fn token_soup(idx in proptest::collection::vec(0..TOKENS.len(), 0..300)) {
        let text: String = idx.iter().map(|&i| TOKENS[i]).collect::<Vec<_>>().join(" ");
        check(text.as_bytes());
    }

    #[test]
    fn mutated_examples(which in 0usize..3, cut in 0usize..4000, insert in proptest::collection::vec(0..TOKENS.len(), 0..8)) {
        let name = ["webapp", "monorepo", "containers"][which];
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name).join("devctl.kdl")).unwrap();
        let mut bytes = text.into_bytes();
        let at = cut.min(bytes.len());
        let extra: String = insert.iter().map(|&i| TOKENS[i]).collect::<Vec<_>>().join(" ");
        bytes.splice(at..at, extra.into_bytes());
        check(&bytes);
    }
}
