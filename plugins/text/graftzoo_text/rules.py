"""fastai's special tokens and text rules: applied to raw strings before word tokenization.

Behaviour follows `fastai.text.core` (defaults.text_spec_tok, text_proc_rules, text_postproc_rules);
each rule is a plain `str -> str` function so the rule list is saved by name.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence

from graftzoo.errors import ConfigError

UNK, PAD, BOS, EOS, FLD = "xxunk", "xxpad", "xxbos", "xxeos", "xxfld"
TK_REP, TK_WREP, TK_UP, TK_MAJ = "xxrep", "xxwrep", "xxup", "xxmaj"
SPECIAL_TOKENS: tuple[str, ...] = (UNK, PAD, BOS, EOS, FLD, TK_REP, TK_WREP, TK_UP, TK_MAJ)

Rule = Callable[[str], str]

_re_spec = re.compile(r"([/#\\])")
_re_space = re.compile(" {2,}")
_re_rep = re.compile(r"(\S)(\1{2,})")
_re_wrep = re.compile(r"(?:\s|^)(\w+)\s+((?:\1\s+)+)\1(\s|\W|$)")
_re_all_caps = re.compile(r"(\s|^)([A-Z]+[^a-z\s]*)(?=(\s|$))")
_re_maj = re.compile(r"(\s|^)([A-Z][^A-Z\s]*)(?=(\s|$))")


def fix_html(text: str) -> str:
    """Undo the HTML and Wikitext escapes fastai has seen in corpora, then unescape HTML entities."""
    text = (
        text.replace("#39;", "'").replace("amp;", "&").replace("#146;", "'").replace("nbsp;", " ")
        .replace("#36;", "$").replace("\\n", "\n").replace("quot;", "'").replace("<br />", "\n")
        .replace('\\"', '"').replace("<unk>", UNK).replace(" @.@ ", ".").replace(" @-@ ", "-")
        .replace("...", " …")
    )
    return html.unescape(text)


def replace_rep(text: str) -> str:
    """A character repeated 3+ times becomes `xxrep n c`: `cccc` -> ` xxrep 4 c `."""
    return _re_rep.sub(lambda m: f" {TK_REP} {len(m.group(2)) + 1} {m.group(1)} ", text)


def replace_wrep(text: str) -> str:
    """A word repeated 3+ times becomes `xxwrep n word`."""
    return _re_wrep.sub(lambda m: f" {TK_WREP} {len(m.group(2).split()) + 2} {m.group(1)} {m.group(3)}", text)


def spec_add_spaces(text: str) -> str:
    """Spaces around `/`, `#` and `\\`."""
    return _re_spec.sub(r" \1 ", text)


def rm_useless_spaces(text: str) -> str:
    """Runs of spaces become one space."""
    return _re_space.sub(" ", text)


def replace_all_caps(text: str) -> str:
    """A word in ALL CAPS (2+ letters) becomes `xxup` + the word lowercased."""
    def _sub(m: re.Match[str]) -> str:
        word = m.group(2)
        return f"{m.group(1)}{TK_UP + ' ' if len(word) > 1 else ''}{word.lower()}"

    return _re_all_caps.sub(_sub, text)


def replace_maj(text: str) -> str:
    """A Capitalized word (2+ letters) becomes `xxmaj` + the word lowercased."""
    def _sub(m: re.Match[str]) -> str:
        word = m.group(2)
        return f"{m.group(1)}{TK_MAJ + ' ' if len(word) > 1 else ''}{word.lower()}"

    return _re_maj.sub(_sub, text)


def lowercase(text: str) -> str:
    """Lowercase, strip, and start with `xxbos`."""
    return f"{BOS} {text.lower().strip()}"


def replace_space(token: str) -> str:
    """Spaces inside a token become `▁` (applied to tokens after word tokenization)."""
    return token.replace(" ", "▁")


RULES: dict[str, Rule] = {
    rule.__name__: rule
    for rule in (fix_html, replace_rep, replace_wrep, spec_add_spaces, rm_useless_spaces,
                 replace_all_caps, replace_maj, lowercase)
}
POST_RULES: dict[str, Rule] = {"replace_space": replace_space}
DEFAULT_RULES: tuple[str, ...] = (
    "fix_html", "replace_rep", "replace_wrep", "spec_add_spaces", "rm_useless_spaces",
    "replace_all_caps", "replace_maj", "lowercase",
)
DEFAULT_POST_RULES: tuple[str, ...] = ("replace_space",)


def resolve_rules(names: Sequence[str], table: dict[str, Rule]) -> list[Rule]:
    """The rule functions named in `names` (a saved tokenizer state names its rules, never code)."""
    unknown = [n for n in names if n not in table]
    if unknown:
        raise ConfigError(f"unknown text rule(s) {unknown}; known rules: {sorted(table)}")
    return [table[n] for n in names]


def decode_spec_tokens(tokens: Sequence[str]) -> list[str]:
    """Undo `xxmaj`, `xxup`, `xxrep` and `xxwrep` in a token list (for display and generated text)."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if tok == TK_MAJ and nxt is not None:
            out.append(nxt.capitalize())
            i += 2
        elif tok == TK_UP and nxt is not None:
            out.append(nxt.upper())
            i += 2
        elif tok in (TK_REP, TK_WREP) and i + 2 < len(tokens) and tokens[i + 1].isdigit():
            n, what = int(tokens[i + 1]), tokens[i + 2]
            out.extend([what * n] if tok == TK_REP else [what] * n)
            i += 3
        else:
            out.append(tok)
            i += 1
    return out
