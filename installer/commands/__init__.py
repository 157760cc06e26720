"""One module per headless command group; each function is ``(args, out) -> exit code``."""
