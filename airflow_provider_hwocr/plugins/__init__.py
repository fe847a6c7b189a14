"""Airflow plugins of the provider (registered in ``get_provider_info``'s ``plugins``).

* :mod:`~airflow_provider_hwocr.plugins.review`: the API server serves the images of review forms.
"""
