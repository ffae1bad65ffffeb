"""fastai's text rules on the examples of fastai's own documentation and tests."""

from graftzoo_text.rules import (
    BOS, SPECIAL_TOKENS, TK_MAJ, TK_REP, TK_UP, TK_WREP, UNK, decode_spec_tokens, fix_html, lowercase,
    replace_all_caps, replace_maj, replace_rep, replace_space, replace_wrep, rm_useless_spaces, spec_add_spaces,
)


def test_special_tokens_have_fastai_ids() -> None:
    assert list(SPECIAL_TOKENS) == "xxunk xxpad xxbos xxeos xxfld xxrep xxwrep xxup xxmaj".split()


def test_spec_add_spaces() -> None:
    assert spec_add_spaces("#fastai") == " # fastai"
    assert spec_add_spaces("/fastai") == " / fastai"
    assert spec_add_spaces("\\fastai") == " \\ fastai"


def test_rm_useless_spaces() -> None:
    assert rm_useless_spaces("a  b   c") == "a b c"


def test_replace_rep() -> None:
    assert replace_rep("aa") == "aa"
    assert replace_rep("aaaa") == f" {TK_REP} 4 a "


def test_replace_wrep() -> None:
    assert replace_wrep("ah ah") == "ah ah"
    assert replace_wrep("ah ah ah") == f" {TK_WREP} 3 ah "
    assert replace_wrep("ah ah ah ah") == f" {TK_WREP} 4 ah "
    assert replace_wrep("ah ah ah ah ") == f" {TK_WREP} 4 ah  "
    assert replace_wrep("ah ah ah ah.") == f" {TK_WREP} 4 ah ."
    assert replace_wrep("ah ah ahi") == "ah ah ahi"


def test_fix_html() -> None:
    assert fix_html("#39;bli#146;") == "'bli'"
    assert fix_html("Sarah amp; Duck...") == "Sarah & Duck …"
    assert fix_html("a nbsp; #36;") == "a   $"
    assert fix_html('\\" <unk>') == f'" {UNK}'
    assert fix_html("quot;  @.@  @-@ ") == "' .-"
    assert fix_html("<br />text\\nLine") == "\ntext\nLine"


def test_replace_all_caps() -> None:
    assert replace_all_caps("I'M SHOUTING") == f"{TK_UP} i'm {TK_UP} shouting"
    assert replace_all_caps("I'm speaking normally") == "I'm speaking normally"
    assert replace_all_caps("I am speaking normally") == "i am speaking normally"


def test_replace_maj() -> None:
    assert replace_maj("Jeremy Howard") == f"{TK_MAJ} jeremy {TK_MAJ} howard"
    assert replace_maj("I don't think there is any maj here") == "i don't think there is any maj here"


def test_lowercase_starts_with_bos() -> None:
    assert lowercase("  Hello World ") == f"{BOS} hello world"


def test_replace_space() -> None:
    assert replace_space("new york") == "new▁york"


def test_decode_spec_tokens_undoes_the_rules() -> None:
    tokens = [TK_MAJ, "jeremy", TK_UP, "loud", TK_REP, "3", "!", TK_WREP, "2", "ah", "x"]
    assert decode_spec_tokens(tokens) == ["Jeremy", "LOUD", "!!!", "ah", "ah", "x"]
