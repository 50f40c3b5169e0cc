from pathlib import Path

from gateway.graphql.schema import export_sdl

SCHEMA_FILE = Path(__file__).parent.parent / "schema.graphql"


def test_committed_schema_matches_the_code() -> None:
    # On failure: `gateway export-schema -o schema.graphql` and commit the result.
    assert SCHEMA_FILE.read_text() == export_sdl()


def test_schema_starts_with_an_explicit_schema_block() -> None:
    assert SCHEMA_FILE.read_text().startswith("schema {\n  query: Query\n  mutation: Mutation\n}")
