"""Importers: an ONNX file or a PyTorch model -> a ConvScope model (.npz), verified stage by
stage against the framework that made it (ONNX Runtime, PyTorch) before it is written.

    imported = onnx_import.read("lenet5.onnx")           # or torch_import.read(...)
    report = common.verify(imported, inputs)            # worst difference per stage
    common.save(imported, "lenet5.npz", classes=[...])  # refuses a model that failed

`onnx`, `onnxruntime` and `torch` are optional extras (pip install convscope[import]): the
server never imports this package. The engine stays HTTP-free: errors are ImportRefused.
"""
