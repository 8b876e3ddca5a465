"""ConvScope engine: a pure-NumPy LeNet that records every stage and explains every unit.

Knows nothing of HTTP. Main entry points: `engine.network.Network`, `engine.spec`,
`engine.trace.Trace`, `engine.explain.explain` / `receptive_field`, `engine.errors`.
"""
