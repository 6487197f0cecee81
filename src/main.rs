fn main() {
    std::process::exit(pipefix::cli::main());
}
