"""The rules a user-supplied path must satisfy before it reaches the registry or storage."""

from __future__ import annotations

from cube.storage.base import InvalidKey, clean_key

SYSTEM_ROOTS = ("home", "PUBLIC", "SHARED", "SERVICES", "PIPELINES")
LINK_SUFFIX = ".chrislink"
MAX_NAME_BYTES = 255  # a file or folder name on the file systems storage uses (ENAMETOOLONG beyond)
MAX_PATH_LENGTH = 1024  # the registry's path columns


class PathError(ValueError):
    """A path a user may not use; the message says why."""


def normalise(path: str) -> str:
    """Strip surrounding slashes and refuse anything that could leave the tree."""
    if not isinstance(path, str):
        raise PathError("a path must be a string")
    if path.strip().strip("/") == "":
        return ""
    if path.lstrip() != path.lstrip("/") and path.strip().startswith("/"):
        # "/etc/passwd": absolute paths are refused rather than silently re-rooted.
        raise PathError(f"'{path}' is an absolute path; paths are relative to the ChRIS root")
    try:
        return clean_key(path.strip())
    except InvalidKey as exc:
        raise PathError(str(exc)) from exc


def check_user_path(path: str) -> str:
    """A path a user may create a file or folder at: no commas (they separate path lists in plugin
    parameters), no link files, and not a system root itself."""
    p = normalise(path)
    if not p:
        raise PathError("the root cannot be written to")
    if "," in p:
        raise PathError(f"'{p}': commas are not allowed in file or folder names")
    if p.endswith(LINK_SUFFIX):
        raise PathError(f"'{p}': names ending in {LINK_SUFFIX} are reserved for link files")
    # Beyond these the storage or the registry refused it only once the bytes were sent (a 500).
    if len(p) > MAX_PATH_LENGTH:
        raise PathError(f"'{p[:60]}...': a path has at most {MAX_PATH_LENGTH} characters")
    for name in p.split("/"):
        if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
            raise PathError(f"'{name[:60]}...': a file or folder name has at most {MAX_NAME_BYTES} bytes")
    return p


def ancestors(path: str) -> list[str]:
    """Every folder above path, nearest last, excluding the root: 'a/b/c' → ['a', 'a/b']."""
    parts = path.split("/") if path else []
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def inheriting(path: str) -> list[str]:
    """The folders (path itself included) whose owner, grants and public flag apply to path.

    System roots ('home', 'SERVICES', ...) and the root are excluded: being able to list 'home' says
    nothing about 'home/alice'.
    """
    parts = path.split("/") if path else []
    return ["/".join(parts[:i]) for i in range(2, len(parts) + 1)]


def home_of(username: str) -> str:
    return f"home/{username}"


def parent_of(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""
