from pathlib import Path

from gateway.config import Settings

OPERATIONS = Path(__file__).parent.parent / "docs" / "operations.md"


def test_every_setting_is_documented_for_operators() -> None:
    text = OPERATIONS.read_text()
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in text]
    assert missing == []


README = Path(__file__).parent.parent / "README.md"


def test_the_readme_says_where_links_point_where_the_first_one_is_shown() -> None:
    """A plain `gateway serve` makes links on PORTAL_BASE_URL's default, which is not
    the local server: said in the passage after the first link, before the next
    section, with the default the settings really have."""
    text = README.read_text()
    first_link = text.index("Portal (valid 24 hours):")  # what scripts/run prints
    passage = text[first_link:text.index("\n## ", first_link)]
    default = Settings.model_fields["portal_base_url"].default
    assert "PORTAL_BASE_URL" in passage
    assert "gateway\nserve" in passage or "gateway serve" in passage
    assert f"`{default}`" in passage
    assert "scripts/run" in passage
