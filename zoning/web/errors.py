"""Error replies of the web service: JSON ``{code, message}`` in Chinese, never a traceback."""

from __future__ import annotations

from zoning.errors import ZoningError

__all__ = ["ERROR_ZH", "STATUS", "TooLarge", "Unauthorized", "Timeout", "BadRequest",
           "error_body"]

#: error code → what it means, in Chinese (the message's first part)
ERROR_ZH = {
    "error": "处理失败",
    "data_error": "数据无法读取",
    "input_error": "输入无法读取或理解",
    "unsupported_format": "不支持的文件格式",
    "catalog_error": "图层目录有误",
    "rule_error": "判定规则文件有误",
    "crs_error": "坐标系有误",
    "resource_limit": "超出处理限制",
    "option_error": "参数有误",
    "output_exists": "输出已存在",
    "output_locked": "输出正被占用",
    "database_error": "数据库无法访问",
    "map_error": "地图无法生成",
    "missing_extra": "缺少可选组件",
    "not_found": "未找到",
    "busy": "服务器繁忙，请稍后再试",
    "timeout": "处理超时",
    "too_large": "上传内容过大",
    "unauthorized": "未授权：需要访问令牌",
    "bad_request": "请求格式有误",
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


class Unauthorized(ZoningError):
    code = "unauthorized"


class Timeout(ZoningError):
    code = "timeout"


class BadRequest(ZoningError, ValueError):
    code = "bad_request"


def error_body(code: str, detail: str = "") -> dict:
    """The JSON body of an error reply: a stable code and a Chinese message."""
    zh = ERROR_ZH.get(code, ERROR_ZH["error"])
    detail = " ".join(str(detail).split())[:2000]
    return {"code": code, "message": f"{zh}：{detail}" if detail else zh}
