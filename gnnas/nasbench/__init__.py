"""NAS-Bench-101 data without TensorFlow: the official TFRecord file, CSV tables, the query API.

- :mod:`gnnas.nasbench.api`: :class:`NASBench101` (the official query API) and
  :class:`OutOfDomainError`;
- :mod:`gnnas.nasbench.tfrecord`: TFRecord framing with CRC-32C checks (:class:`TFRecordError`);
- :mod:`gnnas.nasbench.record`: one record of the official file and its protobuf codec;
- :mod:`gnnas.nasbench.convert`: the fast conversion of the official file into arrays;
- :mod:`gnnas.nasbench.arrays`: the array layout of a table and its cache;
- :mod:`gnnas.nasbench.csv_table`: CSV tables such as ``nb101_subset_30k.csv``;
- :mod:`gnnas.nasbench.compact`: a table in one compact file, and the real sample bundled with
  gnnas (:meth:`NASBench101.bundled`);
- :mod:`gnnas.nasbench.download`: downloading the official files, every record checked;
- :mod:`gnnas.nasbench.synthetic`: official-format files with random metrics, for tests and benchmarks.
"""

from gnnas.nasbench.api import NASBench101, OutOfDomainError
from gnnas.nasbench.arrays import METRIC_FIELDS, NASBenchArrays, default_cache_dir
from gnnas.nasbench.record import EvaluationData, ModelMetrics, NASBenchRecord, ProtobufError
from gnnas.nasbench.tfrecord import (
    TFRecordError,
    TFRecordWriter,
    iter_tfrecord,
    masked_crc32c,
    write_tfrecord,
)

__all__ = [
    "NASBench101", "OutOfDomainError", "NASBenchArrays", "METRIC_FIELDS", "default_cache_dir",
    "EvaluationData", "ModelMetrics", "NASBenchRecord", "ProtobufError",
    "TFRecordError", "TFRecordWriter", "iter_tfrecord", "masked_crc32c", "write_tfrecord",
]
