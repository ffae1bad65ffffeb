"""graftzoo-timm: every timm model as a graftable body, and the `timm:` weight source.

Nothing is imported here: the registry reads `graftzoo.toml`, and imports `graftzoo_timm.hooks`
(which imports timm only inside its hook functions) when the catalogue must be listed.
"""
