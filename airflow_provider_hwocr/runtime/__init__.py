"""What an OCR task does when it runs (never imported when a DAG file is parsed, but for
:mod:`~airflow_provider_hwocr.runtime.contract`, which costs nothing).

An operator's ``execute()`` builds the run's checked settings and its collaborators
(:mod:`~airflow_provider_hwocr.runtime.contract`), then hands over here with one import:

* :mod:`~airflow_provider_hwocr.runtime.single`: one image (the per-API operators);
* :mod:`~airflow_provider_hwocr.runtime.batch`: many images, in four stages
  (select, decide, send, record);
* :mod:`~airflow_provider_hwocr.runtime.pipeline`: the way of one image, shared by both;
* :mod:`~airflow_provider_hwocr.runtime.store`: the key of every object a task writes;
* :mod:`~airflow_provider_hwocr.runtime.envelopes`, :mod:`~airflow_provider_hwocr.runtime.text_export`:
  what is written;
* :mod:`~airflow_provider_hwocr.runtime.costs`, :mod:`~airflow_provider_hwocr.runtime.ratelimit`:
  dry runs, budgets, estimates and pacing.
"""
