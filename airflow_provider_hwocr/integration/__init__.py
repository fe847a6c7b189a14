"""Where OCR tasks meet the rest of Airflow: OpenLineage datasets, OBS console links, readable
map indexes and Asset outlets.

Cheap to import (operator and sensor classes use it at parse time): nothing here loads a hook,
an SDK or the OpenLineage provider until a task asks for it.

* :mod:`~airflow_provider_hwocr.integration.lineage`: datasets and hook-level lineage;
* :mod:`~airflow_provider_hwocr.integration.links`: extra links to the OBS console;
* :mod:`~airflow_provider_hwocr.integration.assets`: the results prefix as an Asset;
* :mod:`~airflow_provider_hwocr.integration.mixin`: all of it on the OCR operators.
"""
