"""Check every timm arch the way graftzoo-timm builds bodies, on the meta device (no weights, no memory).

For each model: build it on meta, adapt it to `--n-in` channels, probe it, drop the modules the
body never uses, run the body, split it and check the split covers every parameter once in two or
more groups. Writes one JSON line per model and prints a summary. The whole catalogue takes about
40 minutes on 2 busy cores; `--jobs` runs shards in parallel, `--names` checks a few.

    python plugins/timm/tools/check_catalogue.py --n-in 1 --jobs 2 --out /tmp/catalogue.jsonl
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from collections import Counter
from typing import Any


def check(name: str, n_in: int) -> dict[str, Any]:
    import timm
    import torch
    from timm.models import get_pretrained_cfg

    from graftzoo_timm.body import drop_modules
    from graftzoo_timm.features import TimmFeatureMap, TimmPooled
    from graftzoo_timm.listing import probe_size
    from graftzoo_timm.probe import CHANNELS_LAST, POOLED, probe_model
    from graftzoo_timm.split import timm_split
    from graftzoo_timm.stem import adapt_input_convs

    record: dict[str, Any] = {"name": name, "ok": False}
    start, stage = time.time(), "create"
    try:
        cfg = get_pretrained_cfg(name)
        with torch.device("meta"):
            model = timm.create_model(name)
        if n_in != cfg.input_size[0]:
            stage = "adapt"
            adapt_input_convs(model, n_in, pretrained=True)
        stage = "probe"
        size = (n_in, *cfg.input_size[1:])
        probe = probe_model(model, size, probe_size(cfg))
        record.update(layout=probe.layout, num_features=probe.num_features, unused=list(probe.unused))
        stage = "body"
        drop_modules(model, probe.unused)
        net = TimmPooled(model) if probe.layout == POOLED else TimmFeatureMap(model, probe.layout == CHANNELS_LAST)
        with torch.no_grad():
            out = net(torch.zeros(1, *size, device="meta"))
        assert out.shape[1] == probe.num_features, f"output {tuple(out.shape)} vs {probe.num_features} features"
        stage = "split"
        groups = timm_split(net)
        ids = [id(p) for group in groups for p in group]
        assert len(groups) >= 2 and len(ids) == len(set(ids)) == len(list(net.parameters())), "split coverage"
        record.update(ok=True, groups=[len(g) for g in groups])
    except Exception as exc:  # a report, not a test: keep going
        record.update(stage=stage, error=f"{type(exc).__name__}: {str(exc)[:300]}")
    record["seconds"] = round(time.time() - start, 2)
    return record


def _shard(args: tuple[list[str], int]) -> list[dict[str, Any]]:
    names, n_in = args
    return [check(name, n_in) for name in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-in", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--names", default="", help="comma-separated model names (default: all)")
    parser.add_argument("--out", default="catalogue.jsonl")
    args = parser.parse_args()
    import timm

    names = [n for n in args.names.split(",") if n] or timm.list_models()
    shards = [(names[i::args.jobs], args.n_in) for i in range(args.jobs)]
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        records = [r for shard in pool.map(_shard, shards) for r in shard]
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in records)
    print(f"{sum(r['ok'] for r in records)}/{len(records)} ok; layouts {dict(Counter(r.get('layout') for r in records))}")
    for record in records:
        if not record["ok"]:
            print(f"  {record['name']}: {record['stage']}: {record['error'][:160]}")


if __name__ == "__main__":
    main()
