"""zoning: check where a construction project may be built against China's statutory layers."""

__version__ = "0.1.0"
