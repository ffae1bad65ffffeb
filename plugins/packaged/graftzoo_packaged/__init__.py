"""graftzoo-packaged: real pretrained weights shipped inside pip packages, served as `packaged:<name>`.

Nothing is imported here: the registry reads `graftzoo.toml`; the weight source finds the
packaged files with `importlib.util.find_spec`, without importing the packages that hold them.
"""
