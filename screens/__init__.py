"""The Textual wizard: a thin UI over the engine in ``installer/`` (which never imports this)."""
