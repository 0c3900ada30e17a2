"""The types a subscription may choose are exactly the ones the five producing services publish (contracts/)."""

from pathlib import Path

from metrology.webhooks.domain.catalogue import PUBLISHED_TYPES, SOURCES

CONTRACTS = Path(__file__).resolve().parents[4] / "contracts"


def published() -> set[str]:
    return {
        f"vn.metrology.{service}.{path.name.removesuffix('.json')}"
        for service in SOURCES
        for path in (CONTRACTS / service).glob("*.json")
    }


def test_the_catalogue_is_the_set_of_published_contracts():
    found = published()
    assert found, f"no contracts under {CONTRACTS}"
    missing, extra = sorted(found - PUBLISHED_TYPES), sorted(PUBLISHED_TYPES - found)
    assert (missing, extra) == ([], []), "update metrology/webhooks/domain/catalogue.py"
