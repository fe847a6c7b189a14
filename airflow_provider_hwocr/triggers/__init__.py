"""Triggers (run by the Airflow triggerer) of the Huawei Cloud OCR provider."""
