//! The `deepclust` command line: a thin layer over the library. See `deepclust --help`.
mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so printing into a closed pipe (`deepclust experiment show paper |
    // head`) would panic; like other Unix tools, let the signal end the process quietly instead.
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = cli::Cli::parse();
    if let Err(e) = cli::init(&args.global) {
        eprintln!("error: {}", message(&e));
        return ExitCode::from(2);
    }
    match cli::dispatch(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            if e.downcast_ref::<cli::UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// The error and its causes, `: `-separated, leaving out a cause that the message already ends
/// with (the library's errors name their source in their own text, e.g. "cannot open F: No such
/// file", and also expose it as the source).
fn message(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !out.ends_with(&c) {
            out.push_str(": ");
            out.push_str(&c);
        }
    }
    out
}
