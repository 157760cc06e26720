"""Ownership labels and names: everything a launch creates carries them (DESIGN.md: Ownership).

Teardown and rollback touch only objects with these labels, so they never reach another
install's (or anyone else's) containers, networks or volumes.
"""

from __future__ import annotations

import re

# An install name: a DNS label (it becomes a Compose project, a folder, Azure resource names).
# The answers file and every --name obey this one rule (no "..", "/", markup or spaces).
INSTALL_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$")

LABEL_PREFIX = "dev.aifabrix.fabrix"
LABEL_INSTALL = f"{LABEL_PREFIX}.install"  # the install name (plan.name)
LABEL_RUN = f"{LABEL_PREFIX}.run"  # the launch run id that created the object
LABEL_COMPONENT = f"{LABEL_PREFIX}.component"  # catalog component name
LABEL_MANAGED = f"{LABEL_PREFIX}.managed"  # always "true"

# Compose's own label: set by Compose on every container, network and volume of a project.
COMPOSE_PROJECT_LABEL = "com.docker.compose.project"

# Azure resources get these tags (same meaning as the labels above).
TAG_INSTALL = "fabrix-install"
TAG_RUN = "fabrix-run"


def project_name(install: str) -> str:
    """The Compose project name of an install: prefixed so it never collides with a user's own."""
    return f"fabrix-{install}"


def install_of_project(project: str) -> str:
    """The install name a Compose project name of ours stands for (inverse of ``project_name``)."""
    return project.removeprefix("fabrix-")
