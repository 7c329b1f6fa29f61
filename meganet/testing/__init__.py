"""Testing aids shipped with meganet (the device-like backend)."""
