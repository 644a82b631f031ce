"""CUBE's own DICOM networking: PACS query/retrieve as an SCU and the storage SCP that receives.

Replaces pfdcm, oxidicom and NATS. This package is Django-free and is the only place in the project
that imports pynetdicom: the Django side (pacs models, services, Celery tasks) calls the functions
re-exported here and implements a :class:`StorageSink` to register what the SCP receives.
"""

from ._part10 import read_identifying_header_part10
from .errors import DicomAssociationError, DicomConnectionError, DicomError, DicomStatusError
from .filesink import FileSink, safe_path_component
from .query import SERIES_INDEX_KEYS, dataset_to_dict
from .scp import DEFAULT_AE_TITLE, DEFAULT_PORT, StorageSCP, run_scp
from .scu import (
    EchoResult,
    GetResult,
    MoveResult,
    PacsNode,
    RetrieveProgress,
    RetrieveResult,
    echo,
    find,
    get,
    move,
    query_studies_and_series,
    store,
)
from .sink import ReceivedInstance, SeriesReceipt, SeriesTally, StorageSink

__all__ = [
    "DEFAULT_AE_TITLE",
    "DEFAULT_PORT",
    "SERIES_INDEX_KEYS",
    "DicomAssociationError",
    "DicomConnectionError",
    "DicomError",
    "DicomStatusError",
    "EchoResult",
    "FileSink",
    "GetResult",
    "MoveResult",
    "PacsNode",
    "ReceivedInstance",
    "RetrieveProgress",
    "RetrieveResult",
    "SeriesReceipt",
    "SeriesTally",
    "StorageSCP",
    "StorageSink",
    "dataset_to_dict",
    "echo",
    "find",
    "get",
    "move",
    "query_studies_and_series",
    "read_identifying_header_part10",
    "run_scp",
    "safe_path_component",
    "store",
]
