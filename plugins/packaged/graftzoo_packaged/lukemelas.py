"""Renaming lukemelas-style EfficientNet-Lite keys (`_blocks.N._depthwise_conv`) to timm's `tf_efficientnet_lite*`.

lukemelas numbers the blocks flat (`_blocks.0` … `_blocks.15`); timm nests them by stage
(`blocks.<stage>.<index>`). Stage 0 blocks have no expansion conv, so their names shift.
"""

from __future__ import annotations

import torch

LITE_STAGE_REPEATS = (1, 2, 2, 3, 3, 4, 1)

OUTSIDE = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
FIRST_STAGE = {"_depthwise_conv": "conv_dw", "_project_conv": "conv_pw", "_bn1": "bn1", "_bn2": "bn2"}
LATER_STAGES = {
    "_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw",
    "_bn1": "bn2", "_project_conv": "conv_pwl", "_bn2": "bn3",
}


def block_positions(repeats: tuple[int, ...] = LITE_STAGE_REPEATS) -> list[tuple[int, int]]:
    """(stage, index in stage) of each flat block number."""
    return [(stage, index) for stage, count in enumerate(repeats) for index in range(count)]


def to_timm_lite(state: dict[str, torch.Tensor], repeats: tuple[int, ...] = LITE_STAGE_REPEATS) -> dict[str, torch.Tensor]:
    """The same tensors under timm's names; a key that fits no rule is a ValueError naming it."""
    positions = block_positions(repeats)
    renamed: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        renamed[_rename(key, positions)] = tensor
    if len(renamed) != len(state):
        raise ValueError("two lukemelas keys were renamed to the same timm key")
    return renamed


def _rename(key: str, positions: list[tuple[int, int]]) -> str:
    parts = key.split(".")
    if parts[0] == "_blocks" and len(parts) >= 4:
        flat = int(parts[1])
        if flat >= len(positions):
            raise ValueError(f"{key!r}: block {flat} is beyond the {len(positions)} blocks of stage repeats")
        stage, index = positions[flat]
        table = FIRST_STAGE if stage == 0 else LATER_STAGES
        if parts[2] not in table:
            raise ValueError(f"{key!r}: no timm name for {parts[2]!r} in stage {stage}")
        return ".".join(["blocks", str(stage), str(index), table[parts[2]], *parts[3:]])
    if parts[0] in OUTSIDE and len(parts) >= 2:
        return ".".join([OUTSIDE[parts[0]], *parts[1:]])
    raise ValueError(f"{key!r} is not a lukemelas EfficientNet-Lite key")
