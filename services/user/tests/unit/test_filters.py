import pytest
from shopmesh_kit.errors import InvalidArgument
from shopmesh_user.domain.filters import UserFilter, parse_filter


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", UserFilter()),
        ("   ", UserFilter()),
        ('email = "Ada@Example.com"', UserFilter(email="ada@example.com")),
        ('email="a@b.c"', UserFilter(email="a@b.c")),
        ('  email   =   "a@b.c"  ', UserFilter(email="a@b.c")),
        ('"ada"', UserFilter(text="ada")),
        ('  "Ada Lovelace" ', UserFilter(text="Ada Lovelace")),
        (r'"say \"hi\""', UserFilter(text='say "hi"')),
        (r'"back\\slash"', UserFilter(text="back\\slash")),
        ('"email = x"', UserFilter(text="email = x")),
    ],
)
def test_supported_filters_parse(text: str, expected: UserFilter) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ada",
        "email",
        "email =",
        "email = ada@example.com",
        'EMAIL = "a@b.c"',
        'email:"a@b.c"',
        'email != "a@b.c"',
        'display_name = "Ada"',
        'email = "a@b.c" AND "x"',
        '"a" OR "b"',
        '"a" "b"',
        'NOT "a"',
        "'single'",
        '"unterminated',
        '"',
        '""',
        'email = ""',
        '"' + "x" * 255 + '"',
    ],
)
def test_anything_else_is_invalid_on_the_filter_field(text: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_filter(text)
    assert [field for field, _ in caught.value.violations] == ["filter"]


def test_longest_value_is_accepted() -> None:
    assert parse_filter('"' + "x" * 254 + '"') == UserFilter(text="x" * 254)
