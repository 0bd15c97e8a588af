"""Versioned Parquet artifacts on object storage, with lineage. No Prefect, no torch."""

from storage.artifact import Artifact
from storage.config import StoreConfig
from storage.filesystem import StoreUnavailable
from storage.integrity import DamagedArtifact, VerifyReport
from storage.manifest import ArtifactRef, Manifest
from storage.store import ArtifactNotFound, ArtifactStore, StageSpec
from storage.writer import ArtifactWriter, IncompleteArtifact

__all__ = [
    "Artifact",
    "ArtifactNotFound",
    "ArtifactRef",
    "ArtifactStore",
    "ArtifactWriter",
    "DamagedArtifact",
    "IncompleteArtifact",
    "Manifest",
    "StageSpec",
    "StoreConfig",
    "StoreUnavailable",
    "VerifyReport",
]
