"""The fields an OBS key sensor may report per matched object, and its default ones.

Apart from the matching rules (:mod:`~airflow_provider_hwocr.hooks.obs_match`, which exports
them too) because the sensor checks ``metadata_keys`` against them when a DAG file constructs
it, and the matching rules are needed only when the sensor runs.
"""

from __future__ import annotations

#: Fields a caller may ask for, per matched object.
METADATA_KEYS = ("key", "uri", "size", "last_modified", "etag", "content_type", "metadata", "bucket")
DEFAULT_METADATA_KEYS = ("key", "uri", "size")
