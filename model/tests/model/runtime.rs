//! Execution-provider selection and warmup on the CPU build of ONNX Runtime.

use crate::common;

use mplug2_model::package::Package;
use mplug2_model::preprocess::MediaLimits;
use mplug2_model::runtime::{ExecutionProvider, OptimizationLevel, RuntimeConfig, RuntimeError};
use mplug2_model::{Model, ModelError};

#[test]
fn unavailable_accelerators_fall_back_in_order_and_the_provider_used_is_reported() {
    let config = RuntimeConfig {
        providers: vec![
            ExecutionProvider::TensorRt,
            ExecutionProvider::Cuda,
            ExecutionProvider::Cpu,
        ],
        tensorrt_cache_dir: Some(std::env::temp_dir().join("mplug2-trt-cache")),
        ..common::runtime_config()
    };
    let package = Package::open(&common::demo_dir()).unwrap();
    let model = Model::load(package, &config, MediaLimits::default()).unwrap();
    assert_eq!(model.provider(), ExecutionProvider::Cpu);
    assert!(
        model
            .graphs()
            .all(|g| g.provider() == ExecutionProvider::Cpu)
    );
    model.warmup().unwrap();
}

#[test]
fn no_usable_provider_is_an_error_naming_each_failure() {
    let config = RuntimeConfig {
        providers: vec![ExecutionProvider::Cuda],
        ..common::runtime_config()
    };
    let package = Package::open(&common::demo_dir()).unwrap();
    let error = Model::load(package, &config, MediaLimits::default()).unwrap_err();
    match &error {
        ModelError::Runtime(RuntimeError::NoProvider { graph, reasons }) => {
            assert_eq!(graph, "vision");
            assert!(reasons.starts_with("cuda:"), "{reasons}");
        }
        other => panic!("expected NoProvider, got {other}"),
    }
}

#[test]
fn every_optimization_level_loads_and_warms_up() {
    for level in [
        OptimizationLevel::Disabled,
        OptimizationLevel::Basic,
        OptimizationLevel::Extended,
    ] {
        let config = RuntimeConfig {
            optimization_level: level,
            ..common::runtime_config()
        };
        let package = Package::open(&common::demo_dir()).unwrap();
        let model = Model::load(package, &config, MediaLimits::default()).unwrap();
        model.warmup().unwrap();
    }
}
