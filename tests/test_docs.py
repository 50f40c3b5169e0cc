from pathlib import Path

from gateway.config import Settings

OPERATIONS = Path(__file__).parent.parent / "docs" / "operations.md"


def test_every_setting_is_documented_for_operators() -> None:
    text = OPERATIONS.read_text()
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in text]
    assert missing == []
