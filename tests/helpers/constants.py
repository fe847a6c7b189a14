"""Fake but realistic-looking credentials shared by the test suite. None of them is real."""

from __future__ import annotations

#: Permanent access key pair (Huawei AKs are 20 upper-case characters, SKs 40).
AK = "HPUAQ7WZK3XBEMT5R2DN"
SK = "d8Kq2VxL7pRt0mZc4Ny9WbFs3Hj6Ue1Ga5Oi8TlE"

#: The project of REGION in the fake account (32 lower-case hex).
PROJECT_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
REGION = "ap-southeast-1"

#: Temporary access key pair and its security token (as STS would hand out).
TEMP_AK = "HST3M9QF1VYC2KD8ZRWA"
TEMP_SK = "Xr4tB7nQ1wE9zK3cV6mH0pL2sJ8dF5gA7uY1iO4e"
SECURITY_TOKEN = (
    "gQ5hcC1zb3V0aGVhc3QtMYoOiY0aBCAkmJ8cRM1yT2aMJdEk3yR0YWtlbl9leGFtcGxlX2Zvcl90ZXN0cw"
    "Ggn7tVwLq3xPzR8sK1mN4jD6fH9bC2vX5yU0eW7aT3gQ1iO4pL8kJ2hG6dF9sA5zM0nB3cV7xZ1qW4eR8tY2u"
)

#: IAM user allowed to get a password token.
IAM_DOMAIN = "hwocr-test-account"
IAM_USER = "ocr-pipeline"
IAM_PASSWORD = "Tr0ub4dor&3-not-real"
