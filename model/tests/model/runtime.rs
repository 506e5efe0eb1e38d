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

/// A vision run another thread may stop: untouched, it equals a plain run; terminated (ONNX
/// Runtime looks at the flag between nodes, and before the first), it fails instead of running.
#[test]
fn a_terminated_vision_run_stops_and_an_untouched_one_equals_a_plain_run() {
    let model = common::demo_model();
    let vision = model.vision.as_ref().expect("the demo has a vision graph");
    let pixels = model
        .preprocessor
        .prepare(mplug2_model::preprocess::Media::Image(
            std::fs::read(common::goldens_dir().join("inputs/image_97x131.png")).unwrap(),
        ))
        .unwrap();
    let plain = vision.run(&[&pixels]).unwrap();
    let untouched = vision.termination().unwrap();
    assert_eq!(
        vision.run_terminable(&[&pixels], &untouched).unwrap(),
        plain
    );
    let terminated = vision.termination().unwrap();
    terminated.terminate();
    let error = vision.run_terminable(&[&pixels], &terminated).unwrap_err();
    assert!(error.to_string().contains("terminate"), "{error}");
}
