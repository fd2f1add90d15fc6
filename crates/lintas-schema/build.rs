//! Generates the Rust types of the event contract from `proto/` at build time.
//!
//! protox is a pure-Rust protobuf compiler, so building Lintas needs no system `protoc`.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let proto_root = manifest_dir.join("../../proto");
    let files = [
        "lintas/v1/interaction.proto",
        "lintas/v1/classification.proto",
    ];
    for file in &files {
        println!("cargo:rerun-if-changed={}", proto_root.join(file).display());
    }
    let descriptors = protox::compile(files, [&proto_root])?;
    prost_build::Config::new()
        // The generated code is not ours to lint; it is never hand-edited.
        .type_attribute(".", "#[allow(missing_docs)]")
        .compile_fds(descriptors)?;
    Ok(())
}
