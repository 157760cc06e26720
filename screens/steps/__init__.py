"""One Screen per wizard step; which steps apply is decided by ``installer.flow``."""
