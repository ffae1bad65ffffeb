"""Reading fastai's vocabulary files (`itos_wt103.pkl`: a pickled list of strings) without unpickling.

The file's opcodes are walked with `pickletools.genops`, which only parses; a list of strings needs
nothing but the opcodes below, and any other one (a global, a call, a build, ...) is refused, so no
code named by the file can run.
"""

from __future__ import annotations

import io
import pickletools

from graftzoo.errors import WeightsError

_STRINGS = {"BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "UNICODE"}
_MEMO_PUT = {"BINPUT", "LONG_BINPUT", "PUT"}
_MEMO_GET = {"BINGET", "LONG_BINGET", "GET"}
_FRAMING = {"PROTO", "FRAME"}
MAX_BYTES = 64 << 20  # fastai's 60k-token vocabulary is well under 1 MB


def read_token_list(data: bytes, what: str = "the vocabulary file") -> list[str]:
    """The list of strings that the pickle `data` holds; a WeightsError for anything else."""
    if len(data) > MAX_BYTES:
        raise WeightsError(f"{what} is {len(data)} bytes, more than a vocabulary ({MAX_BYTES} at most)")
    stack: list[object] = []
    memo: dict[int, object] = {}
    marks: list[int] = []
    result: list[str] | None = None
    try:
        for op, arg, _ in pickletools.genops(io.BytesIO(data)):
            name = op.name
            if name in _FRAMING:
                continue
            if name == "EMPTY_LIST":
                stack.append([])
            elif name in _STRINGS:
                stack.append(str(arg))
            elif name == "LIST":  # protocol 0: MARK item ... LIST
                start = marks.pop()
                items = stack[start:]
                del stack[start:]
                stack.append(items)
            elif name == "MARK":
                marks.append(len(stack))
            elif name in ("APPENDS", "APPEND"):
                start = marks.pop() if name == "APPENDS" else len(stack) - 1
                items, target = stack[start:], stack[start - 1]
                del stack[start:]
                if not isinstance(target, list) or not all(isinstance(i, str) for i in items):
                    raise WeightsError(f"{what} appends something other than strings to a list")
                target.extend(items)
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1]
            elif name in _MEMO_PUT:
                memo[int(arg)] = stack[-1]  # type: ignore[arg-type]
            elif name in _MEMO_GET:
                stack.append(memo[int(arg)])  # type: ignore[arg-type]
            elif name == "STOP":
                top = stack.pop() if len(stack) == 1 else None
                if not isinstance(top, list):
                    raise WeightsError(f"{what} does not hold a list")
                result = top
                break
            else:
                raise WeightsError(f"{what} holds a pickle opcode {name} that a list of tokens never needs: refused, nothing run")
    except (ValueError, IndexError, KeyError) as exc:  # malformed pickles: truncated, bad marks, unknown memo
        raise WeightsError(f"{what} is not a readable list of tokens ({exc})") from exc
    if result is None:
        raise WeightsError(f"{what} ends before its STOP opcode")
    if not all(isinstance(tok, str) for tok in result):
        raise WeightsError(f"{what} holds a list with something other than strings")
    return result
