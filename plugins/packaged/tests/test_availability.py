"""`packaged:` weights are available when their pip package is installed and holds the file."""

from __future__ import annotations

from graftzoo_packaged.availability import is_available
from graftzoo_packaged.weights import PackagedWeights


def test_installed_packaged_weights_are_available() -> None:
    assert is_available("packaged:efficientnet-lite0") is True
    assert PackagedWeights().resolve("packaged:efficientnet-lite0").is_file()  # the file the check found


def test_an_unknown_packaged_name_cannot_be_told() -> None:
    assert is_available("packaged:no-such-file") is None
