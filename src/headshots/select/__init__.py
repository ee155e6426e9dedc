"""Select: the best diverse top-K of the accepted candidates."""

from headshots.select._mmr import Item, SelectConfig, effective_k, select_diverse

__all__ = ["Item", "SelectConfig", "effective_k", "select_diverse"]
