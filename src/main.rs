//! The `geoalign` command line: parses the arguments and runs the command (see `cli`).

mod cli;

/// mimalloc: tile rendering allocates many short-lived vectors on every worker at once;
/// the cold tile benchmark (`scripts/bench tiles`) runs about 9% faster with it than
/// with glibc's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::run(cli::Cli::parse_args())
}
