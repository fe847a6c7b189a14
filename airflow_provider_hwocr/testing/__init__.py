"""Local stand-ins for testing DAGs offline (never imported by the provider's runtime).

* :func:`local_object_server`: an OBS-compatible object server on 127.0.0.1
  (:mod:`~airflow_provider_hwocr.testing.object_server`; needs moto);
* :func:`local_connection`, :func:`object_server_extras`: connections pointing at it and at the
  OCR emulator (:mod:`~airflow_provider_hwocr.emulator`);
* ``hwocr-object-server``: the server from a shell, and ``hwocr-object-server upload`` to put a
  file on it (:mod:`~airflow_provider_hwocr.testing.cli`).
"""

from __future__ import annotations

from airflow_provider_hwocr.testing.connections import local_connection, object_server_extras
from airflow_provider_hwocr.testing.object_server import anonymous_read_policy, local_object_server

__all__ = ["anonymous_read_policy", "local_connection", "local_object_server", "object_server_extras"]
