//! The `tasklane` server binary. The HTTP transport arrives with its own issue; until then this
//! prints what the workspace offers and points at the embedding example.

fn main() {
    println!(
        "tasklane {}: the HTTP server is not built yet; run `cargo run -p tasklane-server --example embed` to see the engine at work",
        env!("CARGO_PKG_VERSION")
    );
}
