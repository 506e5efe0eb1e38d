//! mPLUG-2 on ONNX Runtime.
