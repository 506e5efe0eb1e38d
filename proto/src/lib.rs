//! The `mplug2.v1` gRPC API: messages, the `Inference` server trait and client.

/// Generated code of package `mplug2.v1`.
pub mod v1 {
    tonic::include_proto!("mplug2.v1");
}

/// Encoded `FileDescriptorSet` of every proto here, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/mplug2_descriptor.bin"));
