"""Topic names, topic filters (`+`, `#`) and shared subscriptions (`$share/<group>/<filter>`)."""

from __future__ import annotations

SHARE_PREFIX = "$share/"


def valid_topic_name(topic: str) -> bool:
    """A topic a message is published to: not empty, no wildcards."""
    return bool(topic) and not any(char in topic for char in "+#\0")


def valid_filter(topic_filter: str) -> bool:
    """`#` only as a whole last level, `+` only as a whole level."""
    if not topic_filter or "\0" in topic_filter:
        return False
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            return False
        if "+" in level and level != "+":
            return False
    return True


def parse_filter(text: str) -> tuple[str | None, str]:
    """(shared group or None, topic filter) of a SUBSCRIBE entry; `ValueError` when invalid."""
    group = None
    topic_filter = text
    if text.startswith(SHARE_PREFIX):
        group, _, topic_filter = text[len(SHARE_PREFIX) :].partition("/")
        if not group or any(char in group for char in "+#"):
            raise ValueError(f"invalid shared subscription group in {text!r}")
    if not valid_filter(topic_filter):
        raise ValueError(f"invalid topic filter {text!r}")
    return group, topic_filter


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Whether `topic` matches `topic_filter`; wildcards at the first level skip `$` topics."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    wanted, levels = topic_filter.split("/"), topic.split("/")
    for index, level in enumerate(wanted):
        if level == "#":
            return True  # also matches the parent level: `a/#` matches `a`
        if index >= len(levels) or level not in ("+", levels[index]):
            return False
    return len(wanted) == len(levels)
