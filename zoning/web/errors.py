"""Error replies of the web service: JSON ``{code, message}`` in Chinese, never a traceback."""

from __future__ import annotations

from zoning.errors import ZoningError, error_titles

__all__ = ["title_zh", "STATUS", "TooLarge", "Unauthorized", "Timeout", "BadRequest",
           "error_body"]

#: error codes of the HTTP layer itself → what they mean, in Chinese
_HTTP_ZH = {
    "method_not_allowed": "不支持的请求方法",
    "internal_error": "服务器内部错误（已记录日志）",
}


#: error code → HTTP status
STATUS = {
    "not_found": 404, "busy": 503, "timeout": 504, "too_large": 413, "unauthorized": 401,
    "unsupported_format": 415, "resource_limit": 413, "method_not_allowed": 405,
    "internal_error": 500, "database_error": 503, "missing_extra": 501,
    "catalog_error": 500, "rule_error": 500,
}


class TooLarge(ZoningError):
    code = "too_large"
    title_zh = "上传内容过大"


class Unauthorized(ZoningError):
    code = "unauthorized"
    title_zh = "未授权：需要访问令牌"


class Timeout(ZoningError):
    code = "timeout"
    title_zh = "处理超时"


class BadRequest(ZoningError, ValueError):
    code = "bad_request"
    title_zh = "请求格式有误"


def title_zh(code: str) -> str:
    """The Chinese title of an error code: each error class's ``title_zh``, or the HTTP
    layer's own."""
    # the service's own errors (not_found, busy, unsupported_format) are defined beside
    # the code that raises them: importing those modules registers their classes
    from zoning.web import jobs, service  # noqa: F401

    return {**error_titles(), **_HTTP_ZH}.get(code, ZoningError.title_zh)


def error_body(code: str, detail: str = "") -> dict:
    """The JSON body of an error reply: a stable code and a Chinese message."""
    zh = title_zh(code)
    detail = " ".join(str(detail).split())[:2000]
    return {"code": code, "message": f"{zh}：{detail}" if detail else zh}
