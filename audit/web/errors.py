"""Request validation errors in Spanish (es-MX).

FastAPI answers an invalid parameter with pydantic's English messages («Input should be a valid integer…»). The
dashboard shows them to people, so each error is described here in Spanish: which parameter, what was wrong with
the value received and what is accepted (read from the route's own declaration: ranges, allowed values, lengths).
The JSON API keeps the machine-readable keys (``loc``, ``type``) and adds ``param``, ``input`` and ``accepted``;
``msg`` is the Spanish sentence."""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any, Literal, Union

from starlette.requests import Request

MAX_INPUT_CHARS = 60

_WHERE = {"query": "Parámetro", "path": "Dirección", "body": "Campo", "form": "Campo", "header": "Encabezado",
          "cookie": "Cookie"}


def _show(value: Any) -> str:
    text = "" if value is None else str(value)
    text = "".join(ch if ch.isprintable() else "�" for ch in text)
    return text if len(text) <= MAX_INPUT_CHARS else text[: MAX_INPUT_CHARS - 1] + "…"


def _join_o(items: Sequence[str]) -> str:
    """«a», «b» o «c»."""
    quoted = [f"«{i}»" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " o " + quoted[-1]


def _field(request: Request, where: str, name: str) -> Any:
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None:
        return None
    groups = {"query": "query_params", "path": "path_params", "header": "header_params", "cookie": "cookie_params",
              "body": "body_params", "form": "body_params"}
    for f in getattr(dependant, groups.get(where, "query_params"), []):
        if name in (f.name, f.alias):
            return f
    return None


def _base_type(annotation: Any) -> Any:
    """``int | None`` → int; ``Literal[...] | None`` → the Literal."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _base_type(args[0]) if len(args) == 1 else annotation
    return annotation


def _bounds(metadata: Sequence[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in metadata:
        for attr in ("ge", "gt", "le", "lt", "min_length", "max_length"):
            if getattr(m, attr, None) is not None:
                out[attr] = getattr(m, attr)
    return out


def _num(v: Any) -> str:
    return str(v)  # no thousands separator: years and ids read as written in the address


def accepted(field: Any, ctx: dict[str, Any] | None = None) -> str:
    """What the parameter accepts, in Spanish (from the route's declaration, else from the error's context)."""
    ctx = ctx or {}
    if field is None:
        if "expected" in ctx:
            return "uno de estos valores: " + str(ctx["expected"]).replace("' or '", "', '").replace("'", "")
        return ""
    ann = _base_type(field.field_info.annotation)
    b = _bounds(field.field_info.metadata)
    if typing.get_origin(ann) is Literal:
        return "uno de estos valores: " + _join_o([str(v) for v in typing.get_args(ann)])
    if ann is bool:
        return "«true» o «false» (también «1» o «0»)"
    if ann in (int, float):
        kind = "un número entero" if ann is int else "un número"
        lo, hi = b.get("ge"), b.get("le")
        if lo is not None and hi is not None:
            return f"{kind} de {_num(lo)} a {_num(hi)}"
        if lo is not None:
            return f"{kind} mayor o igual a {_num(lo)}"
        if hi is not None:
            return f"{kind} menor o igual a {_num(hi)}"
        return kind
    if ann is str:
        lo, hi = b.get("min_length"), b.get("max_length")
        if lo and hi:
            return f"un texto de {_num(lo)} a {_num(hi)} caracteres"
        if hi:
            return f"un texto de hasta {_num(hi)} caracteres"
        if lo:
            return f"un texto de al menos {_num(lo)} caracteres"
        return "un texto"
    return ""


def _problem(error_type: str, value: Any, ctx: dict[str, Any]) -> str:
    shown = f"«{_show(value)}»"
    if error_type == "missing":
        return "falta"
    if error_type in ("int_parsing", "int_type", "int_from_float"):
        return f"{shown} no es un número entero"
    if error_type in ("float_parsing", "float_type"):
        return f"{shown} no es un número"
    if error_type in ("greater_than_equal", "greater_than"):
        limit = ctx.get("ge", ctx.get("gt"))
        return f"{shown} es menor que el mínimo ({_num(limit)})"
    if error_type in ("less_than_equal", "less_than"):
        limit = ctx.get("le", ctx.get("lt"))
        return f"{shown} es mayor que el máximo ({_num(limit)})"
    if error_type in ("literal_error", "enum"):
        return f"{shown} no es un valor admitido"
    if error_type in ("bool_parsing", "bool_type"):
        return f"{shown} no es un valor sí/no"
    if error_type == "string_too_long":
        return f"el texto tiene {len(str(value or ''))} caracteres y el máximo es {_num(ctx.get('max_length'))}"
    if error_type == "string_too_short":
        return "está vacío" if not value else f"el texto es más corto que el mínimo ({_num(ctx.get('min_length'))})"
    return f"{shown} no es válido"


def spanish_errors(request: Request, errors: Sequence[Any]) -> list[dict[str, Any]]:
    """pydantic/FastAPI validation errors → ``{loc, type, param, input, msg, accepted}`` with Spanish texts."""
    out = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ())]
        where = loc[0] if loc else ""
        name = ".".join(loc[1:]) if len(loc) > 1 else (loc[0] if loc else "")
        ctx = {k: v for k, v in (e.get("ctx") or {}).items() if isinstance(v, (str, int, float, bool))}
        error_type = str(e.get("type", ""))
        value = e.get("input")
        accepts = accepted(_field(request, where, loc[1] if len(loc) > 1 else name), ctx)
        label = f"{_WHERE.get(where, 'Parámetro')} «{name}»"
        msg = f"{label}: {_problem(error_type, value, ctx)}."
        if accepts:
            msg += f" Se acepta {accepts}."
        out.append({"loc": loc, "type": error_type, "param": name,
                    "input": None if value is None or isinstance(value, dict) else _show(value),
                    "msg": msg, "accepted": accepts})
    return out


def spanish_message(problems: Sequence[dict[str, Any]]) -> str:
    """One paragraph for the HTML error page."""
    return " ".join(p["msg"] for p in problems) or "La petición no es válida."


# ------------------------------------------------------------------------------------- one error format

#: machine-readable code of each HTTP error (the Spanish message goes beside it)
ERROR_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 422: "invalid_parameter",
               429: "too_many_requests", 500: "internal_error", 503: "service_unavailable"}
ERROR_TITLES = {400: "Petición no válida", 401: "Se requiere iniciar sesión", 403: "Acceso denegado",
                404: "No encontrado", 405: "Método no permitido", 409: "Conflicto", 413: "Archivo demasiado grande",
                422: "Parámetros inválidos", 429: "Demasiados intentos", 500: "Error interno",
                503: "Servicio no disponible"}
#: Starlette's own English texts («Not Found»…) replaced by Spanish ones
_DEFAULT_MESSAGES = {
    404: "La dirección solicitada no existe en el tablero. Revise la dirección o vuelva al resumen.",
    405: "Esta dirección no admite el método {method}; use {allow}.",
}


def spanish_detail(status: int, detail: Any, method: str = "", allow: str = "") -> str:
    """The message of an HTTP error in Spanish (Starlette's default English phrases are replaced)."""
    from http import HTTPStatus

    text = str(detail) if detail is not None else ""
    try:
        english = HTTPStatus(status).phrase
    except ValueError:
        english = ""
    if not text or text == english:
        template = _DEFAULT_MESSAGES.get(status, ERROR_TITLES.get(status, "Error") + ".")
        return template.format(method=method or "usado", allow=allow or "otro método")
    return text


def error_body(status: int, message: str, problems: Sequence[dict[str, Any]] | None = None,
               code: str | None = None) -> dict[str, Any]:
    """The JSON shape of every API error: ``{"error": {status, code, title, message}, "detail": [...]}``."""
    return {"error": {"status": status, "code": code or ERROR_CODES.get(status, "error"),
                      "title": ERROR_TITLES.get(status, "Error"), "message": message},
            "detail": list(problems or [])}


def json_error_bytes(status: int, code: str, message: str, problems: Sequence[dict[str, Any]] | None = None) -> bytes:
    import json

    return json.dumps(error_body(status, message, problems, code), ensure_ascii=False).encode("utf-8")
