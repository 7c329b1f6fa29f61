"""optim (filled in by the corresponding modules)."""
__all__ = []
