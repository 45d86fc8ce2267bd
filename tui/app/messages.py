"""The app's messages: what the data runtime and the screens tell the app, the Textual way (posted, handled with
``@on``, coalesced in the queue instead of piling up).
"""

from __future__ import annotations

from textual.message import Message


class FeedUpdated(Message):
    """Feeds delivered (or failed: their health changed). Pending ones merge into one: a burst of deliveries costs
    one handler run, and the 1 Hz tick repaints only the panes behind the feeds named."""

    def __init__(self, *feeds: str) -> None:
        super().__init__()
        self.feeds = set(feeds)

    def can_replace(self, message: Message) -> bool:
        # Textual asks the message in hand whether the next one in the queue may supersede it: fold our feeds in.
        if isinstance(message, FeedUpdated):
            message.feeds |= self.feeds
            return True
        return False


class FilterChanged(Message):
    """The dashboard's coin filter changed (``/``, as typed); ``text`` is what the user typed."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
