"""fabrix engine: plan → checks → render → validate → launch → journal.

This package never imports Textual or the screens package (tests/unit/test_layering.py).
"""

__version__ = "0.1.0"
