"""Performance baselines for the benchmark suite: analytic FLOPs, the eager PyTorch reference, ORT probes."""
