"""fsspec filesystems for Airflow's ``ObjectStoragePath``."""
