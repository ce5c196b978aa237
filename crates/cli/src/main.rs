/// `println!` that ends the command quietly, with status 0, once standard output is closed
/// (as when piped into `head`).
macro_rules! outln {
    () => {
        $crate::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!`, ending quietly on a closed standard output as `outln!` does.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*))
    };
}

mod batched_stderr;
mod bridge;
mod broker;
mod commands;
mod json_log;
mod listening;
mod local;
mod opt;
mod output;
mod profile_tokens;

use std::process::ExitCode;

use clap::Parser;

use crate::opt::{Command, Opt, OutputTarget};

/// A failure to report: what went wrong and what to do about it.
pub struct Failure {
    pub message: String,
    pub hint: Option<String>,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

fn main() -> ExitCode {
    let opt = Opt::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let output = match &opt.output {
            OutputTarget::Format(format) => Ok(*format),
            OutputTarget::File(path) => Err(Failure::new(format!(
                "--output {}: only `coupa postman export` writes to a file",
                path.display()
            ))
            .hint("use --output text, json, jsonl or csv, and redirect standard output")),
        };
        match opt.command {
            Command::Serve(args) => commands::serve::exec(*args).await,
            Command::Admin(args) => commands::admin::exec(args, output?).await,
            Command::Scopes(args) => commands::scopes::exec(args, output?),
            Command::Token(args) => commands::token::exec(args).await,
            Command::Api(args) => commands::api::exec(args, output?).await,
            Command::Profiles(args) => commands::profiles::exec(args, output?),
            Command::Bridge(args) => commands::bridge::exec(args).await,
            Command::Broker(args) => commands::broker::exec(args).await,
            Command::Postman(args) => commands::postman::exec(args, opt.output).await,
            Command::Demo(args) => commands::demo::exec(args, output?).await,
            Command::Ca(args) => commands::ca::exec(args, output?),
            Command::Sandbox(command) => commands::sandbox::exec(command, output?).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            if let Some(hint) = failure.hint {
                eprintln!("hint: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}
