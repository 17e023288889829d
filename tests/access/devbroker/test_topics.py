"""Topic filters and shared subscriptions as the development broker reads them."""

import pytest

from access.devbroker.topics import parse_filter, topic_matches, valid_topic_name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("toolgate/v1/gates/+/events", (None, "toolgate/v1/gates/+/events")),
        ("#", (None, "#")),
        (
            "$share/toolgate-bridge/toolgate/v1/gates/+/request",
            ("toolgate-bridge", "toolgate/v1/gates/+/request"),
        ),
    ],
)
def test_valid_filters(text, expected):
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "a/#/b", "a/b#", "a/+b", "$share/group", "$share//a", "$share/gr+oup/a", "$share/g/a/#/b"],
)
def test_invalid_filters_are_refused(text):
    with pytest.raises(ValueError, match="invalid"):
        parse_filter(text)


@pytest.mark.parametrize(
    ("topic_filter", "topic", "matches"),
    [
        ("a/+/c", "a/b/c", True),
        ("a/+/c", "a/b/d", False),
        ("a/+", "a/b/c", False),
        ("a/#", "a", True),
        ("+/#", "$SYS/broker", False),  # wildcards at the first level skip `$` topics
        ("$SYS/#", "$SYS/broker", True),
        ("a/b", "a/b/", False),
    ],
)
def test_topic_matching(topic_filter, topic, matches):
    assert topic_matches(topic_filter, topic) is matches


@pytest.mark.parametrize(
    ("topic", "valid"), [("a/b", True), ("", False), ("a/+", False), ("#", False)]
)
def test_topic_names_carry_no_wildcards(topic, valid):
    assert valid_topic_name(topic) is valid
