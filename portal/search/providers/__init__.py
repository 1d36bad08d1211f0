"""The search sources, by the names the API uses."""

from __future__ import annotations

from ..http import RateLimiter
from .base import Provider, ProviderSettings
from .clinicaltrials import ClinicalTrialsProvider
from .crossref import CrossrefProvider
from .europepmc import EuropePmcProvider
from .minzdrav import MinzdravProvider
from .openalex import OpenAlexProvider
from .pubmed import PubMedProvider

PROVIDER_CLASSES: dict[str, type[Provider]] = {
    cls.name: cls
    for cls in (
        MinzdravProvider,
        PubMedProvider,
        EuropePmcProvider,
        CrossrefProvider,
        ClinicalTrialsProvider,
        OpenAlexProvider,
    )
}
# Also the order in which merged results interleave: the clinical guidelines, the legal
# basis of care in Russia, lead.
SOURCE_NAMES: tuple[str, ...] = tuple(PROVIDER_CLASSES)


def build_provider(name: str, settings: ProviderSettings, *, limiter: RateLimiter | None = None) -> Provider:
    """A provider for source ``name``; PubMed gets NCBI's limiter by default."""
    try:
        cls = PROVIDER_CLASSES[name]
    except KeyError:
        raise ValueError(f"unknown search source {name!r}") from None
    return cls(settings, limiter=limiter)


__all__ = [
    "PROVIDER_CLASSES",
    "SOURCE_NAMES",
    "ClinicalTrialsProvider",
    "CrossrefProvider",
    "EuropePmcProvider",
    "MinzdravProvider",
    "OpenAlexProvider",
    "Provider",
    "ProviderSettings",
    "PubMedProvider",
    "build_provider",
]
