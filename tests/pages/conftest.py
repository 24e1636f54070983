"""Fixtures of the page tests."""

import pytest
from helpers import click_download


@pytest.fixture
def downloads(deferred):
    """What clicking a download button serves (every download is built on click)."""
    return lambda button: click_download(deferred, button)
