//! Ports for tests that need a real TCP socket.

use std::net::TcpListener;

/// A port nothing listens on (bound, then let go).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .local_addr()
        .expect("local address")
        .port()
}
