"""URLs as MiniPavi's PHP gateway reads them (reference §2, §3): ``filter_var`` with
FILTER_VALIDATE_URL (:func:`valid_url`), ``parse_url`` to find where to POST and
``parse_str`` for ``URLPARAMS`` (:func:`split_url`), and the PHP array -> JSON rule
(:func:`php_json_value`). Pure functions; none raises on any ``str``.
"""

from __future__ import annotations

import ipaddress
import re
import string
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

__all__ = ["parse_str", "php_json_value", "split_url", "valid_url"]

#: What PHP's FILTER_SANITIZE_URL keeps; FILTER_VALIDATE_URL refuses a URL with anything else.
_URL_CHARS = frozenset(string.ascii_letters + string.digits + "$-_.+!*'(),{}|\\^~[]`<>#%\";/?:@&=")
_USERINFO = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2})*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_NO_HOST_SCHEMES = frozenset({"mailto", "news", "file"})


def _netloc(netloc: str) -> tuple[str, str, str] | None:
    """(userinfo, host, port) of an authority; ``None`` when PHP's parse_url would fail."""
    userinfo, _, hostport = netloc.rpartition("@")
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            return None
        host, rest = hostport[: end + 1], hostport[end + 1:]
        if rest and not rest.startswith(":"):
            return None
        port = rest[1:]
    else:
        host, _, port = hostport.partition(":")
    if port and (not port.isascii() or not port.isdigit() or int(port) > 65535):
        return None
    return userinfo, host, port


def _valid_hostname(host: str) -> bool:
    """PHP's domain check with FILTER_FLAG_HOSTNAME (as FILTER_VALIDATE_URL uses for http)."""
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    if host.endswith("."):
        host = host[:-1]
    if not host or len(host) > 253:
        return False
    return all(_LABEL.fullmatch(label) for label in host.split("."))


def valid_url(url: object) -> bool:
    """True when PHP's ``filter_var($url, FILTER_VALIDATE_URL)`` accepts ``url``: only URL
    characters, a scheme, a host (a valid host name for http/https), a sane port and user."""
    if not isinstance(url, str) or not url or any(c not in _URL_CHARS for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if not parts.scheme or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme):
        return False
    authority = _netloc(parts.netloc)
    if authority is None:
        return False
    userinfo, host, _port = authority
    scheme = parts.scheme.lower()
    if scheme in ("http", "https") and not _valid_hostname(host):
        return False
    if not host and scheme not in _NO_HOST_SCHEMES:
        return False
    return not userinfo or all(_USERINFO.fullmatch(p) for p in userinfo.split(":", 1))


_NUMERIC_KEY = re.compile(r"0|-?[1-9][0-9]*")
_INT64 = 2**63


def _php_key(key: str) -> int | str:
    """A PHP array key: canonical decimal strings become integers."""
    if _NUMERIC_KEY.fullmatch(key) and -_INT64 <= int(key) < _INT64:
        return int(key)
    return key


def _append(array: dict[int | str, Any], value: Any) -> None:
    """``$array[] = $value`` (PHP 8.2: the next index is one past the largest, at least 0)."""
    ints = [k for k in array if isinstance(k, int)]
    array[max([0, *(k + 1 for k in ints)])] = value


def _register(array: dict[int | str, Any], name: str, value: str) -> None:
    """One ``name=value`` pair into ``array``, as PHP's ``php_register_variable_ex``."""
    name = name.lstrip(" ")
    bracket = name.find("[")
    base = name if bracket < 0 else name[:bracket]
    base = base.replace(" ", "_").replace(".", "_")
    if not base:
        return
    if bracket < 0 or "]" not in name[bracket:]:
        if bracket >= 0:  # an unclosed [ is no index: it becomes part of the name
            rest = name[bracket + 1:]
            base += "_" + rest.replace(" ", "_").replace(".", "_").replace("[", "_")
        array[_php_key(base)] = value
        return
    target, pos = array, bracket
    key: int | str | None = _php_key(base)
    while True:
        close = name.find("]", pos + 1)
        if close < 0:
            break  # a[x][y : the unclosed level is dropped, a[x] is set
        index = name[pos + 1: close]
        if key is None:
            child: dict[int | str, Any] = {}
            _append(target, child)
        else:
            existing = target.get(key)
            child = existing if isinstance(existing, dict) else {}
            target[key] = child
        target, key = child, (None if index == "" else _php_key(index))
        pos = close + 1
        if pos >= len(name) or name[pos] != "[":
            break
    if key is None:
        _append(target, value)
    else:
        target[key] = value


def _urldecode(text: str) -> str:
    """PHP ``urldecode``: ``+`` is a space, ``%XX`` a byte; non-UTF-8 bytes become U+FFFD."""
    data = text.replace("+", " ").encode("utf-8", "surrogatepass")
    return unquote_to_bytes(data).decode("utf-8", "replace")


def parse_str(query: str) -> dict[int | str, Any]:
    """PHP's ``parse_str``: pairs split on ``&`` then at the first ``=``, names and values
    URL-decoded, ``a[]=`` appends to an array, ``a[k]=`` sets a key, spaces and dots in a
    base name become ``_``. Keys that are canonical integers are ``int``."""
    result: dict[int | str, Any] = {}
    for pair in query.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            _register(result, _urldecode(name), _urldecode(value))
    return result


def php_json_value(value: Any) -> Any:
    """A PHP value as ``json_encode`` writes it: an array with keys 0..n-1 in order is a
    JSON list, any other array an object."""
    if not isinstance(value, dict):
        return value
    if list(value) == list(range(len(value))):
        return [php_json_value(v) for v in value.values()]
    return {str(k): php_json_value(v) for k, v in value.items()}


def split_url(url: str) -> tuple[str, dict[str, Any] | list[Any] | None]:
    """The URL a request is POSTed to and its ``URLPARAMS`` (§2).

    The POST goes to ``scheme://host[:port]/path``: the query becomes ``URLPARAMS`` (decoded
    as PHP's ``parse_str`` does, ``None`` when there is none) and the fragment and any
    ``user:password@`` are dropped, as the PHP gateway drops them.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url, None
    authority = _netloc(parts.netloc) or ("", parts.netloc, "")
    _userinfo, host, port = authority
    post_url = f"{parts.scheme}://{host}{':' + port if port else ''}{parts.path}"
    params = parse_str(parts.query)
    return post_url, (php_json_value(params) if params else None)
