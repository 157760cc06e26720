"""The Azure foundation as one Python model (``model``), written out as Bicep and as flat ARM JSON.

Both texts come from the same objects, so the readable Bicep and the Marketplace ARM template
cannot disagree on a resource, a name or an API version (no Bicep compiler runs offline).
"""
