"""Language-model streams and length-sorted, chunk-padded classifier batches."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from graftzoo.errors import ConfigError
from graftzoo_text.data import ClassifierLoader, LMLoader, TextDataLoaders


def _docs(lengths: list[int], start: int = 10) -> list[np.ndarray]:
    out, nxt = [], start
    for n in lengths:
        out.append(np.arange(nxt, nxt + n))
        nxt += n
    return out


def test_lm_batches_continue_each_stream_and_y_is_shifted() -> None:
    docs = _docs([7, 3, 9, 5, 11, 6])  # 41 tokens 10..50 in order
    dl = LMLoader(docs, bs=4, seq_len=3)
    assert dl.stream_len == 10 and len(dl) == 4  # (41-1)//4*4 // 4, ceil(10/3)
    batches = list(dl)
    x = torch.cat([b[0] for b in batches], dim=1)
    y = torch.cat([b[1] for b in batches], dim=1)
    assert [b[0].shape[1] for b in batches] == [3, 3, 3, 1]
    assert torch.equal(x, torch.arange(10, 50).view(4, 10))  # row k is the k-th contiguous stream
    assert torch.equal(y, x + 1)


def test_lm_shuffle_reorders_documents_every_epoch_not_tokens() -> None:
    docs = _docs([5] * 20)
    dl = LMLoader(docs, bs=2, seq_len=8, shuffle=True, seed=0)
    first, second = dl.streams()[0], dl.streams()[0]
    assert not torch.equal(first, second)
    starts = first.reshape(-1)[::5].tolist()  # every stream starts on document boundaries here
    assert all((s - 10) % 5 == 0 for s in starts)
    with pytest.raises(ConfigError, match="too few"):
        LMLoader(_docs([3]), bs=8)


def test_classifier_batches_sorted_by_length_and_padded_first() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 30, size=200).tolist()
    docs = _docs(lengths)
    labels = np.arange(200) % 3
    for shuffle in (False, True):
        dl = ClassifierLoader(docs, labels, bs=16, seq_len=8, pad_idx=1, shuffle=shuffle, seed=1)
        seen = []
        for x, y in dl:
            real = (x != 1).sum(1)
            assert (real[:-1] >= real[1:]).all()  # longest first inside every batch
            for row, n in zip(x, real.tolist()):
                gap = x.shape[1] - n
                lead = (gap // 8) * 8
                assert (row[:lead] == 1).all() and (row[lead:lead + n] != 1).all() and (row[lead + n:] == 1).all()
            seen += [int(docs_index) for docs_index in y]
        assert len(seen) == 200
    unsorted = ClassifierLoader(docs, labels, bs=16, sort=False)
    first_x, _ = next(iter(unsorted))
    assert (first_x != 1).sum(1).tolist() == lengths[:16]


def test_shuffled_epochs_differ_and_drop_last() -> None:
    docs = _docs([5] * 50)
    dl = ClassifierLoader(docs, np.arange(50), bs=8, shuffle=True, drop_last=True, seed=0)
    a = torch.cat([y for _, y in dl])
    b = torch.cat([y for _, y in dl])
    assert len(dl) == 6 and len(a) == 48 and not torch.equal(a, b)


def _df() -> pd.DataFrame:
    texts = ["good movie great fun"] * 20 + ["bad movie awful boring"] * 20
    return pd.DataFrame({"text": texts, "label": ["pos"] * 20 + ["neg"] * 20, "is_valid": [i % 5 == 0 for i in range(40)]})


def test_from_df_classifier(graftzoo_home: Path) -> None:
    dls = TextDataLoaders.from_df(_df(), text_col="text", label_col="label", valid_col="is_valid", bs=4, seq_len=8)
    assert dls.vocab == ["neg", "pos"] and dls.c == 2 and not dls.is_lm
    assert dls.text_vocab[9:16] == ["movie", "good", "great", "fun", "bad", "awful", "boring"]  # count, then first seen
    x, y = dls.one_batch()
    assert x.shape[0] == 4 and y.dtype == torch.long
    assert dls.valid is not None and sum(len(y) for _, y in dls.valid) == 8
    table = dls.show_batch(max_n=2, show=False)
    assert list(table.columns) == ["text", "category"] and table.text[0].startswith("xxbos")
    assert dls.encode_item("good fun")[0].tolist() == [dls.preprocessor.numericalize(["good fun"])[0].tolist()]
    test = dls.test_dl(["awful", "great fun movie"], bs=8)
    tx, _ = next(iter(test))
    assert dls.preprocessor.decode(tx[0]) == "xxbos awful"  # the given order, not sorted


def test_from_df_language_model_and_errors(graftzoo_home: Path) -> None:
    dls = TextDataLoaders.from_df(_df(), text_col="text", is_lm=True, bs=2, seq_len=5, seed=0)
    x, y = dls.one_batch()
    assert dls.is_lm and x.shape == (2, 5) and dls.vocab == dls.text_vocab
    assert list(dls.show_batch(show=False).columns) == ["text", "text_"]
    with pytest.raises(ConfigError, match="no column"):
        TextDataLoaders.from_df(_df(), text_col="nope")
    with pytest.raises(ConfigError, match="no rows"):
        TextDataLoaders.from_df(_df().iloc[:0])


def test_from_folder_and_csv(tmp_path: Path, graftzoo_home: Path) -> None:
    for split in ("train", "valid"):
        for label, text in (("pos", "lovely day"), ("neg", "rainy sad day")):
            (tmp_path / split / label).mkdir(parents=True)
            for i in range(3):
                (tmp_path / split / label / f"{i}.txt").write_text(f"{text} {i}")
    dls = TextDataLoaders.from_folder(tmp_path, bs=2, min_freq=1)
    assert dls.valid is not None and sum(len(y) for _, y in dls.valid) == 6
    assert dls.classes == ["neg", "pos"]
    _df().to_csv(tmp_path / "labels.csv", index=False, encoding="latin-1")
    dls = TextDataLoaders.from_csv(tmp_path, encoding="latin-1", text_col="text", label_col="label", bs=4)
    assert dls.c == 2
    with pytest.raises(ConfigError, match="no text files"):
        TextDataLoaders.from_folder(tmp_path / "empty")


def test_ddp_shards_lm_streams_by_stream_and_classifier_items_in_sorted_order() -> None:
    """`dls.distributed(rank, world_size)`, the Learner's sharding hook under torchrun: each rank built
    the same loaders with the same seed (one per rank here)."""
    import numpy as np

    from graftzoo_text.data.classifier_loader import ClassifierLoader
    from graftzoo_text.data.lm_loader import LMLoader

    docs = [np.arange(start, start + 7) for start in range(0, 70, 7)]  # 70 distinct tokens
    whole = LMLoader(docs, bs=4, seq_len=3, shuffle=True, seed=1)
    shards = [LMLoader(docs, bs=2, seq_len=3, shuffle=True, seed=1).shard(rank, 2) for rank in range(2)]
    full_x, _ = whole.streams()
    xs = [shard.streams()[0] for shard in shards]
    assert torch.equal(xs[0], full_x[0::2]) and torch.equal(xs[1], full_x[1::2])  # the 4 streams, 2 per rank
    assert len(shards[0]) == len(shards[1]) == len(whole)
    for rank in range(2):  # consecutive batches continue each of the rank's streams
        batches = list(LMLoader(docs, bs=2, seq_len=3, shuffle=True, seed=1).shard(rank, 2))
        assert torch.equal(torch.cat([x for x, _ in batches], dim=1), xs[rank])
    lengths = [5, 1, 9, 3, 7, 2, 8]
    texts = [np.full(n, 5) for n in lengths]
    labels = np.arange(len(texts))
    sorted_items = ClassifierLoader(texts, labels, bs=2, seed=0).order()
    halves = [ClassifierLoader(texts, labels, bs=2, seed=0).shard(rank, 2, pad=False).order() for rank in range(2)]
    assert sorted(np.concatenate(halves).tolist()) == list(range(7))  # every text once, none repeated
    assert halves[0].tolist() == sorted_items[0::2].tolist() and halves[1].tolist() == sorted_items[1::2].tolist()
    for half in halves:  # each rank's batches stay sorted by length, longest first
        assert [lengths[i] for i in half] == sorted((lengths[i] for i in half), reverse=True)
    padded = [ClassifierLoader(texts, labels, bs=2, seed=0, shuffle=True).shard(rank, 2, pad=True) for rank in range(2)]
    assert len(padded[0]) == len(padded[1]) and [len(p.order()) for p in padded] == [4, 4]
