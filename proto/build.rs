//! Compiles `mplug2/v1/*.proto` with protox (pure Rust: no protoc needed) and keeps the encoded
//! descriptor set for server reflection.
use std::{env, path::PathBuf};

const PROTOS: [&str; 3] = [
    "mplug2/v1/inference.proto",
    "mplug2/v1/media.proto",
    "mplug2/v1/info.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=mplug2");
    let descriptors = protox::compile(PROTOS, ["."])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("mplug2_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    Ok(())
}
