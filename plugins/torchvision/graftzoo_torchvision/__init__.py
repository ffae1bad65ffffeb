"""graftzoo-torchvision: torchvision's classification models as graftzoo bodies, and the `torchvision:` weight source.

What it registers lives in `graftzoo.toml` (read without importing this package); the cuts,
splitters and the weight source are imported only when a body is built.
"""
