"""Parsing hub references."""

from __future__ import annotations

import pytest

from graftzoo.errors import ConfigError
from graftzoo.hub import HubRef, parse_ref


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alice/pets", HubRef("local", "alice/pets", None)),
        ("alice/pets@main", HubRef("local", "alice/pets", "main")),
        ("alice/pets-v2.1_x@3f2a9c1", HubRef("local", "alice/pets-v2.1_x", "3f2a9c1")),
        ("local://alice/pets", HubRef("local", "alice/pets", None)),
        ("local://alice/pets@dev", HubRef("local", "alice/pets", "dev")),
        ("hf://alice/pets", HubRef("hf", "alice/pets", None)),
        ("hf://alice/pets@v1.0", HubRef("hf", "alice/pets", "v1.0")),
        ("hf://alice/pets@refs/pr/1", HubRef("hf", "alice/pets", "refs/pr/1")),
        ("hf://alice/pets@" + "a" * 40, HubRef("hf", "alice/pets", "a" * 40)),
        ("  alice/pets  ", HubRef("local", "alice/pets", None)),
    ],
)
def test_valid_refs(text: str, expected: HubRef) -> None:
    assert parse_ref(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "", "pets", "alice/", "/pets", "alice/pets/extra", "alice/pets@", "s3://alice/pets", "hf://pets",
        "alice/../pets", "alice/pe ts", "alice/pets@bad rev", "alice/pets@../x", "-alice/pets", "hf:///alice/pets",
    ],
)
def test_invalid_refs_say_what_a_valid_one_looks_like(text: str) -> None:
    with pytest.raises(ConfigError, match="ns/name@main"):
        parse_ref(text)


def test_ref_round_trips_through_str() -> None:
    for text in ("hf://alice/pets@v1", "local://alice/pets", "alice/pets@main"):
        ref = parse_ref(text)
        assert parse_ref(str(ref)) == ref
    assert str(parse_ref("alice/pets")) == "local://alice/pets"


def test_parse_ref_accepts_a_parsed_ref() -> None:
    ref = HubRef("hf", "alice/pets", "main")
    assert parse_ref(ref) is ref


def test_non_string_is_rejected() -> None:
    with pytest.raises(ConfigError):
        parse_ref(42)  # type: ignore[arg-type]
