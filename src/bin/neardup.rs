//! The `neardup` binary: parses the command line and hands over to the library.

/// mimalloc instead of the system allocator: the engine allocates per block and per document,
/// and in the server and the audit documents are prepared on one thread and freed on another,
/// which glibc's allocator handles poorly (measured: ~18 % of the audit's CPU in malloc/free).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    neardup::cli::main()
}
