"""Text data: language-model streams, length-sorted classifier batches, TextDataLoaders."""

from graftzoo_text.data.classifier_loader import ClassifierLoader
from graftzoo_text.data.dataloaders import TextDataLoaders
from graftzoo_text.data.lm_loader import LMLoader

__all__ = ["ClassifierLoader", "LMLoader", "TextDataLoaders"]
