"""Image data: `ImageDataLoaders` with presizing, batched augmentation and fastai-style inspection."""

from graftzoo_vision.data.augment import Augment
from graftzoo_vision.data.batch_tfms import IMAGENET_STATS, BatchTransform
from graftzoo_vision.data.checks import BadImageError, find_bad_images
from graftzoo_vision.data.collate import collate_items
from graftzoo_vision.data.errors import CollateError, DataError, LabelError
from graftzoo_vision.data.files import IMAGE_EXTENSIONS, get_image_files
from graftzoo_vision.data.items import ItemTransform, open_image
from graftzoo_vision.data.itemsets import ImageItems, UnlabeledItems
from graftzoo_vision.data.labels import RegexLabeller, parent_label
from graftzoo_vision.data.loaders import ImageDataLoaders
from graftzoo_vision.data.splits import random_split
from graftzoo_vision.data.summarize import summary
from graftzoo_vision.data.targets import make_targets
from graftzoo_vision.data.synthetic import write_image_folder, write_named_images

__all__ = [
    "IMAGENET_STATS",
    "IMAGE_EXTENSIONS",
    "Augment",
    "BadImageError",
    "BatchTransform",
    "CollateError",
    "DataError",
    "ImageDataLoaders",
    "ImageItems",
    "ItemTransform",
    "LabelError",
    "RegexLabeller",
    "UnlabeledItems",
    "collate_items",
    "find_bad_images",
    "get_image_files",
    "make_targets",
    "open_image",
    "parent_label",
    "random_split",
    "summary",
    "write_image_folder",
    "write_named_images",
]
