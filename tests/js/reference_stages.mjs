// The reference LeNet record (the contract's layer entries), for tests only: production code
// always reads shapes from the server's record.
export const STAGES = [
  { name: "input", kind: "input", shape: [1, 32, 32] },
  { name: "conv1", kind: "conv", filters: 6, kernel: 5, stride: 1, padding: 0, in_channels: 1, shape: [6, 28, 28] },
  { name: "relu1", kind: "activation", function: "relu", shape: [6, 28, 28] },
  { name: "pool1", kind: "pool", op: "max", window: 2, stride: 2, shape: [6, 14, 14] },
  { name: "conv2", kind: "conv", filters: 16, kernel: 5, stride: 1, padding: 0, in_channels: 6, shape: [16, 10, 10] },
  { name: "relu2", kind: "activation", function: "relu", shape: [16, 10, 10] },
  { name: "pool2", kind: "pool", op: "max", window: 2, stride: 2, shape: [16, 5, 5] },
  { name: "flatten", kind: "flatten", shape: [400] },
  { name: "fc1", kind: "dense", units: 120, shape: [120] },
  { name: "relu3", kind: "activation", function: "relu", shape: [120] },
  { name: "fc2", kind: "dense", units: 100, shape: [100] },
  { name: "relu4", kind: "activation", function: "relu", shape: [100] },
  { name: "fc3", kind: "dense", units: 10, shape: [10] },
  { name: "softmax", kind: "softmax", shape: [10] },
];
