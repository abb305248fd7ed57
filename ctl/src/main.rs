//! The `devctl` binary: a current-thread runtime around [`devctl_ctl::run`].

fn main() {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(devctl_ctl::run(std::env::args_os()));
    // Everything the command does, output included, is done and flushed by
    // now; tearing the runtime down (its idle connection tasks) would only
    // delay the moment a script waiting on `devctl start` goes on.
    std::process::exit(i32::from(code))
}
