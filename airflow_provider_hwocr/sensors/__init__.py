"""Sensors of the Huawei Cloud OCR provider."""
