"""The provider's error root (``errors.py``): every class under ``HuaweiCloudError``, on at most one of
the two branches, with the ``retryable`` flag and ``parameter`` each promises."""

from __future__ import annotations

import ast
import inspect

import pytest

from airflow_provider_hwocr import errors
from airflow_provider_hwocr.client import OcrRetryPolicy, RetryPolicy
from airflow_provider_hwocr.client import errors as ocr_errors
from airflow_provider_hwocr.errors import (
    HuaweiCloudBudgetExceededError,
    HuaweiCloudError,
    HuaweiCloudNonRetryableError,
    HuaweiCloudRetryableError,
    HuaweiCloudThrottledError,
    HuaweiCloudTransientError,
    HuaweiOcrBatchEmptyError,
    HuaweiOcrBatchFailedError,
    HuaweiOcrXComSizeError,
)
from airflow_provider_hwocr.hooks import obs_errors


def _classes(module) -> list[type[BaseException]]:
    return [
        obj
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, BaseException) and obj.__module__ == module.__name__
    ]


def test_all_lists_every_class_of_the_module():
    assert sorted(errors.__all__) == sorted(cls.__name__ for cls in _classes(errors))


@pytest.mark.parametrize("name", errors.__all__)
def test_every_class_derives_from_the_root(name):
    cls = getattr(errors, name)
    assert issubclass(cls, HuaweiCloudError) and issubclass(cls, Exception)
    assert not (issubclass(cls, HuaweiCloudRetryableError) and issubclass(cls, HuaweiCloudNonRetryableError))


def test_the_branches_and_their_flags():
    assert HuaweiCloudError.retryable is False  # unknown nature: Airflow's own retries apply
    assert HuaweiCloudNonRetryableError.retryable is False
    assert HuaweiCloudRetryableError.retryable is True
    for cls in (HuaweiCloudThrottledError, HuaweiCloudTransientError):
        assert issubclass(cls, HuaweiCloudRetryableError) and cls.retryable is True
    assert not issubclass(HuaweiCloudThrottledError, HuaweiCloudTransientError)
    assert not issubclass(HuaweiCloudTransientError, HuaweiCloudThrottledError)


def test_budget_exceeded_is_never_retried():
    err = HuaweiCloudBudgetExceededError("max_calls: this task may make 12 calls")
    assert isinstance(err, HuaweiCloudNonRetryableError) and not err.retryable
    assert str(err) == "max_calls: this task may make 12 calls"


def test_xcom_size_error_names_max_xcom_bytes():
    err = HuaweiOcrXComSizeError("the result is 2,000,000 bytes")
    assert HuaweiOcrXComSizeError.parameter == err.parameter == "max_xcom_bytes"
    assert isinstance(err, HuaweiCloudNonRetryableError) and isinstance(err, ValueError)
    assert not err.retryable and str(err) == "the result is 2,000,000 bytes"


def test_batch_empty_error_names_source_uri():
    err = HuaweiOcrBatchEmptyError("obs://bucket/in/ matched no image")
    assert err.parameter == "source_uri"
    assert isinstance(err, HuaweiCloudNonRetryableError) and isinstance(err, ValueError)


def test_batch_failed_error_is_on_neither_branch():
    err = HuaweiOcrBatchFailedError("3 of 10 images failed")
    assert isinstance(err, HuaweiCloudError) and isinstance(err, RuntimeError)
    assert not isinstance(err, (HuaweiCloudRetryableError, HuaweiCloudNonRetryableError))
    assert err.retryable is False


def test_one_except_catches_every_error_of_the_provider():
    everything = _classes(errors) + _classes(ocr_errors) + _classes(obs_errors)
    assert len(everything) >= 25
    for cls in everything:
        assert issubclass(cls, HuaweiCloudError), cls
        # retryable is exactly "on the retryable branch", wherever the class lives
        assert cls.retryable is issubclass(cls, HuaweiCloudRetryableError), cls
        assert not (
            issubclass(cls, HuaweiCloudRetryableError) and issubclass(cls, HuaweiCloudNonRetryableError)
        )


def test_the_module_imports_nothing():
    """Operators import it at DAG parse time: no import beyond ``__future__`` and ``typing``."""
    tree = ast.parse(inspect.getsource(errors))
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert imported == {"__future__", "typing"}


def test_every_provider_error_derives_from_one_root_and_one_branch():
    from airflow_provider_hwocr.client import errors as ocr
    from airflow_provider_hwocr.hooks import obs_errors as obs
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrXComSizeError

    classes = [getattr(ocr, n) for n in ocr.__all__ if n.startswith("HuaweiOcr")]
    classes += [getattr(obs, n) for n in obs.__all__ if n.startswith("HuaweiObs")]
    classes.append(HuaweiOcrXComSizeError)
    bases = {ocr.HuaweiOcrError, obs.HuaweiObsError}
    for cls in classes:
        assert issubclass(cls, HuaweiCloudError), cls
        if cls in bases:
            continue
        retry = issubclass(cls, HuaweiCloudRetryableError)
        never = issubclass(cls, HuaweiCloudNonRetryableError)
        assert retry != never, cls  # exactly one branch
        assert cls.retryable is retry, cls
    assert issubclass(ocr.HuaweiOcrThrottledError, HuaweiCloudThrottledError)
    assert issubclass(obs.HuaweiObsThrottledError, HuaweiCloudThrottledError)
    assert issubclass(ocr.HuaweiOcrTransientError, HuaweiCloudTransientError)
    # local validation, XCom size and TLS are never retried; old names stay importable
    for cls in (
        ocr.HuaweiOcrValidationError,
        HuaweiOcrXComSizeError,
        ocr.HuaweiOcrTlsError,
        obs.HuaweiObsTlsError,
    ):
        assert issubclass(cls, HuaweiCloudNonRetryableError)
    assert issubclass(HuaweiOcrXComSizeError, ValueError)
    assert RetryPolicy is OcrRetryPolicy
