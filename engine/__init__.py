"""The SLAP engine: audio front-end, towers, heads, losses, training and inference.

This package never imports Qt or ``slapdesk``: training servers use it alone.
"""
