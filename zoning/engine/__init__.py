"""The engine: pure computation, frames and arrays in, results out (never a path)."""
