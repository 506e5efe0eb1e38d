"""int8 packages: ONNX Runtime's dynamic quantization of the packages' weight matrices.

`recipe` says what is quantized and how, `graph` applies it to one ONNX graph, `package` turns an
fp32 package into an int8 one (`python -m mplug2_exporter quantize`).
"""
