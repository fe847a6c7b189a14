"""Apache Airflow provider for Huawei Cloud OCR.

Kept import-light: importing the package must not pull in Airflow, requests
or the OBS SDK, so that DAG parsing stays fast.
"""

#: The one place the version is written: pyproject.toml reads it (``[tool.setuptools.dynamic]``).
__version__ = "0.2.0"
